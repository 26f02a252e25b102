//! BMC Cold Reset and Warm Reset (IPMI v2.0 §20.2-20.3, App NetFn 06h,
//! cmds 02h and 03h, Administrator): answered at once, then, after
//! [`ANSWER_GRACE`] so the answer is out through the bridge, the daemons
//! the reset restarts are named in `org.rbmc.Bmc.ResetRequested`
//! ([`rbmc_contracts::bmc`]). A warm reset restarts the communication
//! interfaces (the bridges) and leaves settings and sensor scanning alone;
//! a cold reset restarts every daemon, this one too. Settings persist
//! either way.

use std::{sync::OnceLock, time::Duration};

use ipmi_router::{HandlerResult, IpmiRequest};
use ipmi_wire::CompletionCode;
use rbmc_contracts::bmc;
use tracing::{info, warn};

/// Cold Reset.
pub const CMD_COLD_RESET: u8 = 0x02;
/// Warm Reset.
pub const CMD_WARM_RESET: u8 = 0x03;

/// How long the answer has to leave before the bridges go.
pub const ANSWER_GRACE: Duration = Duration::from_millis(300);

/// The bus the reset is announced on, once connected.
#[derive(Debug, Default)]
pub struct Reset {
    bus: OnceLock<zbus::Connection>,
}

impl Reset {
    /// Announces resets on `bus` from now on.
    pub fn connect(&self, bus: zbus::Connection) {
        let _ = self.bus.set(bus);
    }

    /// Cold Reset or Warm Reset: no request data; C0h until the bus is up.
    pub fn cmd_reset(&self, request: &IpmiRequest) -> HandlerResult {
        if !request.data.is_empty() {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        }
        self.request(request.cmd == CMD_COLD_RESET)
            .map_err(|NotConnected| CompletionCode::NODE_BUSY)?;
        Ok(Vec::new())
    }

    /// Announces a cold (or warm) reset after [`ANSWER_GRACE`].
    pub fn request(&self, cold: bool) -> Result<(), NotConnected> {
        let bus = self.bus.get().ok_or(NotConnected)?.clone();
        let (kind, daemons): (&str, &[&str]) = if cold {
            ("cold", &bmc::COLD_RESET)
        } else {
            ("warm", &bmc::WARM_RESET)
        };
        let daemons: Vec<String> = daemons.iter().map(|d| (*d).to_owned()).collect();
        info!(kind, ?daemons, "BMC reset requested");
        tokio::spawn(async move {
            tokio::time::sleep(ANSWER_GRACE).await;
            let sent = bus
                .emit_signal(
                    None::<()>,
                    bmc::BMC_PATH,
                    bmc::BMC_INTERFACE,
                    bmc::RESET_REQUESTED,
                    &(daemons,),
                )
                .await;
            if let Err(err) = sent {
                warn!(cause = %err, "cannot announce the BMC reset");
            }
        });
        Ok(())
    }
}

/// The bus is not up yet: no reset can be announced.
#[derive(Debug)]
pub struct NotConnected;

/// `org.rbmc.Bmc` at [`bmc::BMC_PATH`]: the resets over D-Bus.
pub struct BmcObject {
    /// The daemon's state, whose reset it asks for.
    pub state: std::sync::Arc<crate::Sensord>,
}

#[zbus::interface(name = "org.rbmc.Bmc")]
impl BmcObject {
    /// A `warm` or `cold` reset, as the IPMI commands do: root, sensord's
    /// own user and the Redfish bridge only, audited.
    async fn reset(
        &self,
        kind: String,
        #[zbus(connection)] conn: &zbus::Connection,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) -> Result<(), rbmc_contracts::CommonError> {
        use rbmc_contracts::CommonError;
        let action = format!("Bmc.Reset {kind}");
        rbmc_daemon::caller::checked(conn, Some(&header), &action, || async {
            let cold = match kind.as_str() {
                "cold" => true,
                "warm" => false,
                other => {
                    return Err(CommonError::InvalidArgument(format!(
                        "reset kind {other:?} is not warm or cold"
                    )))
                }
            };
            self.state
                .reset
                .request(cold)
                .map_err(|NotConnected| CommonError::Unavailable("the bus is not up yet".into()))
        })
        .await
    }
}
