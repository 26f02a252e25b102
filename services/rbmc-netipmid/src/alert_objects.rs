//! The LAN channel's alert destinations on D-Bus
//! (`org.rbmc.Lan.AlertDestinations`, [`rbmc_contracts::network`]), for
//! rbmc-pefd, which sends PEF's alerts to them. Read-only: IPMI's Set LAN
//! Configuration Parameters 16-19 change them. Each call asks the engine
//! task, which owns them, so it answers what a Get would.

use ipmi_lan::lan_alerts::LanAlerts;
use rbmc_contracts::{network::AlertDestination, CommonError};

use crate::engine::EngineHandle;

/// The object.
pub struct AlertDestinations {
    /// The engine, which owns the LAN parameters.
    pub engine: EngineHandle,
    /// The LAN channel.
    pub channel: u8,
}

/// Parameter 16's bytes and destination `selector`'s, as one buffer the
/// engine's job can answer with: the community, then parameter 18's and
/// 19's values.
fn encode(alerts: &LanAlerts, selector: u8) -> Option<Vec<u8>> {
    let destination = alerts.destination(selector)?;
    let mut out = alerts.community().to_vec();
    out.push(destination.kind_code());
    out.push(u8::from(destination.acknowledge));
    out.push(destination.timeout_s);
    out.push(destination.retries);
    out.extend(destination.ip.octets());
    Some(out)
}

fn decode(bytes: &[u8]) -> Option<AlertDestination> {
    let split = bytes.len().checked_sub(8)?;
    let (community, rest) = bytes.split_at(split);
    let ip = std::net::Ipv4Addr::new(rest[4], rest[5], rest[6], rest[7]);
    Some((
        community.to_vec(),
        rest[0],
        rest[1] != 0,
        rest[2],
        rest[3],
        ip.to_string(),
    ))
}

#[zbus::interface(name = "org.rbmc.Lan.AlertDestinations")]
impl AlertDestinations {
    /// The LAN channel.
    #[zbus(property)]
    fn channel(&self) -> u8 {
        self.channel
    }

    /// Destination `selector` with the community string.
    async fn destination(&self, selector: u8) -> Result<AlertDestination, CommonError> {
        let answer = self
            .engine
            .accounts(Box::new(move |accounts, _| {
                encode(&accounts.lan.alerts, selector)
                    .ok_or(ipmi_wire::CompletionCode::PARAMETER_OUT_OF_RANGE)
            }))
            .await;
        match answer {
            Ok(bytes) => decode(&bytes)
                .ok_or_else(|| CommonError::InternalFailure("malformed destination".into())),
            Err(ipmi_wire::CompletionCode::PARAMETER_OUT_OF_RANGE) => Err(
                CommonError::InvalidArgument(format!("no alert destination {selector}")),
            ),
            Err(_) => Err(CommonError::Unavailable(
                "the LAN channel's engine has stopped".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_crosses_the_bus_whole() {
        let mut alerts = LanAlerts::default();
        alerts.set(18, &[2, 0x80, 4, 3]).unwrap();
        alerts
            .set(19, &[2, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0])
            .unwrap();
        let bytes = encode(&alerts, 2).unwrap();
        assert_eq!(
            decode(&bytes),
            Some((b"public".to_vec(), 0, true, 4, 3, "127.0.0.1".into()))
        );
        assert_eq!(encode(&alerts, 5), None);
    }
}
