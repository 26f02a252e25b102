//! PEF's alerts: Platform Event Traps to the LAN channel's alert
//! destinations, which rbmc-netipmid owns (LAN parameters 16-19, read
//! through `org.rbmc.Lan.AlertDestinations` at each alert).
//!
//! - An alert walks its filter's alert policy ([`PolicyWalk`]): for each
//!   destination it reaches, one trap (SNMPv1, PET 1.0) goes to the
//!   destination's address on `[pef] trap-port`.
//! - An acknowledged destination gets the trap again every timeout until
//!   a PET Acknowledge names it or its retries run out; then the alert to
//!   it has failed, which is logged, and the policy's next entry decides
//!   what follows.
//! - At most [`IN_FLIGHT`] alerts are delivered at once and
//!   [`QUEUED`] wait; past that an alert is dropped and logged, so a storm
//!   of events never grows memory without bound. Alerts run apart from
//!   the SEL and from PEF's processing, so neither waits for them.
//! - Alert Immediate sends to one destination now and keeps its status.

use std::{
    collections::HashMap,
    net::{Ipv4Addr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use ipmi_pef::{
    filter::{AlertRequest, Event},
    params::PefSettings,
    pet::{specific_trap, PetFields, Trap},
    policy::{PolicyWalk, Step},
};
use ipmi_router::HandlerResult;
use ipmi_wire::CompletionCode;
use rbmc_config::Config;
use rbmc_contracts::{
    network::{AlertDestination, AlertDestinationsProxy},
    CommonError,
};
use tokio::{
    net::UdpSocket,
    sync::{mpsc, oneshot, Semaphore},
    time::Instant,
};
use tracing::{debug, info, warn};

use crate::owner::PefHandle;

/// Alerts delivered at once.
pub const IN_FLIGHT: usize = 16;
/// Alerts waiting for a slot.
pub const QUEUED: usize = 256;
/// How long one read of a destination from rbmc-netipmid may take.
const LOOKUP_LIMIT: Duration = Duration::from_secs(2);
/// How long a destination read is reused: in a storm of alerts one read a
/// second per destination, not one per alert; a change made over IPMI is
/// in use within this time.
const DESTINATION_FRESH: Duration = Duration::from_secs(1);

/// What the traps say about the system, from the config.
#[derive(Clone, Debug)]
struct Identity {
    /// The GUID in its text order (most significant byte first).
    guid: [u8; 16],
    manufacturer_id: u32,
    system_id: u16,
    /// (LUN, sensor number) → (entity ID, instance), for the BMC's sensors.
    entities: HashMap<(u8, u8), (u8, u8)>,
    channel: u8,
}

/// How one destination's alert went.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Delivery {
    /// Sent to an unacknowledged destination.
    Sent,
    /// Acknowledged by a PET Acknowledge.
    Acknowledged,
    /// Sent every time, never acknowledged: given up.
    NotAcknowledged,
    /// Not sent (no address, an OEM type, the destination unreadable, a
    /// socket error).
    Failed,
}

impl Delivery {
    fn succeeded(self) -> bool {
        matches!(self, Self::Sent | Self::Acknowledged)
    }

    /// Alert Immediate's status byte.
    fn status(self) -> u8 {
        match self {
            Self::Sent | Self::Acknowledged => 0x01,
            Self::Failed => 0x02,
            Self::NotAcknowledged => 0x03,
        }
    }
}

/// The alert side of rbmc-pefd.
pub struct Alerter {
    bus: zbus::Connection,
    pef: PefHandle,
    trap_port: u16,
    identity: Identity,
    started: Instant,
    waiting_acks: Mutex<HashMap<[u8; 12], Vec<oneshot::Sender<()>>>>,
    /// Destinations read lately, with when.
    destinations: Mutex<HashMap<u8, (Instant, AlertDestination)>>,
    /// Alert Immediate's status: 00h none, FFh in progress, else the last
    /// outcome.
    immediate: Mutex<u8>,
    queue: mpsc::Sender<(Event, AlertRequest)>,
}

impl Alerter {
    /// The alerter, and the task that delivers queued alerts.
    pub fn start(bus: zbus::Connection, pef: PefHandle, config: &Config) -> Arc<Self> {
        let (queue, queued) = mpsc::channel(QUEUED);
        let entities = config
            .sensors
            .iter()
            .map(|s| ((s.lun, s.number.0), (s.entity_id, s.entity_instance)))
            .collect();
        let alerter = Arc::new(Self {
            bus,
            pef,
            trap_port: config.pef.trap_port,
            identity: Identity {
                guid: config.bmc.guid.map(|g| g.0).unwrap_or_default(),
                manufacturer_id: config.bmc.manufacturer_id.0,
                system_id: config.bmc.product_id,
                entities,
                channel: config.network.channel,
            },
            started: Instant::now(),
            waiting_acks: Mutex::new(HashMap::new()),
            destinations: Mutex::new(HashMap::new()),
            immediate: Mutex::new(0),
            queue,
        });
        tokio::spawn(deliver_queued(alerter.clone(), queued));
        alerter
    }

    /// Queues the alert `request` for `event`; a full queue drops it.
    pub fn alert(&self, event: Event, request: AlertRequest) {
        if self.queue.try_send((event, request)).is_err() {
            warn!(
                record = event.record_id,
                filter = request.filter,
                "PEF alert dropped: {QUEUED} alerts are already waiting"
            );
        }
    }

    /// Walks the policy of `request` for `event`.
    async fn run_policy(&self, event: Event, request: AlertRequest) {
        let Some(settings) = self.pef.settings().await else {
            return;
        };
        let mut walk = PolicyWalk::new(&settings.policies, request.policy);
        if walk.is_empty() {
            info!(
                record = event.record_id,
                filter = request.filter,
                policy = request.policy,
                "PEF alert not sent: its policy has no enabled entry"
            );
            return;
        }
        // Type 4 needs each entry's destination type: every destination
        // this daemon can send to is a PET trap.
        while let Some(step) = walk.next_step(|_| 0) {
            let delivery = self.deliver_step(&settings, &event, request, step).await;
            walk.report(step, delivery.succeeded());
        }
    }

    async fn deliver_step(
        &self,
        settings: &PefSettings,
        event: &Event,
        request: AlertRequest,
        step: Step,
    ) -> Delivery {
        let policy = step.policy;
        if policy.channel() != self.identity.channel {
            warn!(
                entry = step.entry,
                channel = policy.channel(),
                "PEF alert not sent: the policy entry names a channel that is not the LAN channel"
            );
            return Delivery::Failed;
        }
        let text = alert_string(settings, request.filter, policy.string_key());
        let fields = self.fields(settings, event, request.severity, text);
        self.deliver(policy.destination(), fields, specific_trap(event))
            .await
    }

    /// The trap's fields for `event`.
    fn fields(
        &self,
        settings: &PefSettings,
        event: &Event,
        severity: u8,
        alert_string: Vec<u8>,
    ) -> PetFields {
        let unix = u64::from(event.timestamp);
        let mut fields = PetFields::for_event(event, severity, unix);
        fields.guid = settings
            .pet_guid()
            // Parameter 10 holds it as Get System GUID sends it.
            .map(|mut g| {
                g.reverse();
                g
            })
            .unwrap_or(self.identity.guid);
        fields.manufacturer_id = self.identity.manufacturer_id;
        fields.system_id = self.identity.system_id;
        let [generator, channel_lun] = event.generator_id.to_le_bytes();
        if generator == 0x20 {
            let lun = channel_lun & 0x03;
            if let Some(&(entity, instance)) =
                self.identity.entities.get(&(lun, event.sensor_number))
            {
                fields.entity = entity;
                fields.entity_instance = instance;
            }
        }
        fields.alert_string = alert_string;
        fields
    }

    /// Destination `selector`, as rbmc-netipmid has it (read at most
    /// [`DESTINATION_FRESH`] ago).
    async fn destination(&self, selector: u8) -> Result<AlertDestination, CommonError> {
        let now = Instant::now();
        let fresh = self
            .lock_destinations()
            .get(&selector)
            .filter(|(read_at, _)| now.duration_since(*read_at) < DESTINATION_FRESH)
            .map(|(_, destination)| destination.clone());
        if let Some(destination) = fresh {
            return Ok(destination);
        }
        let destination = self.read_destination(selector).await?;
        self.lock_destinations()
            .insert(selector, (now, destination.clone()));
        Ok(destination)
    }

    fn lock_destinations(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<u8, (Instant, AlertDestination)>> {
        self.destinations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn read_destination(&self, selector: u8) -> Result<AlertDestination, CommonError> {
        let lookup = async {
            AlertDestinationsProxy::new(&self.bus)
                .await
                .map_err(CommonError::from)?
                .destination(selector)
                .await
        };
        tokio::time::timeout(LOOKUP_LIMIT, lookup)
            .await
            .unwrap_or_else(|_| Err(CommonError::Timeout("rbmc-netipmid did not answer".into())))
    }

    /// Sends `fields` as a trap to destination `selector`, with its
    /// acknowledgement and retries.
    async fn deliver(&self, selector: u8, fields: PetFields, specific: u32) -> Delivery {
        match self.destination(selector).await {
            Ok(destination) => {
                self.deliver_to(selector, destination, fields, specific)
                    .await
            }
            Err(err) => {
                warn!(selector, %err, "PEF alert not sent: the destination could not be read");
                Delivery::Failed
            }
        }
    }

    async fn deliver_to(
        &self,
        selector: u8,
        destination: AlertDestination,
        fields: PetFields,
        specific: u32,
    ) -> Delivery {
        let (community, kind, acknowledge, timeout_s, retries, address) = destination;
        let ip = match address.parse::<Ipv4Addr>() {
            Ok(ip) if !ip.is_unspecified() => ip,
            _ => {
                warn!(
                    selector,
                    "PEF alert not sent: the destination has no address"
                );
                return Delivery::Failed;
            }
        };
        if kind != 0 {
            warn!(
                selector,
                kind, "PEF alert not sent: OEM destination types are not supported"
            );
            return Delivery::Failed;
        }
        let target = SocketAddr::from((ip, self.trap_port));
        if !acknowledge {
            return match self.send_trap(target, &community, &fields, specific).await {
                Ok(()) => {
                    debug!(selector, %target, specific, "PET sent");
                    Delivery::Sent
                }
                Err(err) => {
                    warn!(selector, %target, %err, "PET not sent");
                    Delivery::Failed
                }
            };
        }
        // The same event may go to several acknowledged destinations at
        // once (two policies): an acknowledgement names the trap, not the
        // destination, so it answers every alert waiting on that trap.
        let key = fields.ack_key();
        let (acked, mut ack) = oneshot::channel();
        self.lock_acks().entry(key).or_default().push(acked);
        let wait = Duration::from_secs(u64::from(timeout_s.max(1)));
        let attempts = u32::from(retries & 0x07) + 1;
        for attempt in 1..=attempts {
            if let Err(err) = self.send_trap(target, &community, &fields, specific).await {
                warn!(selector, %target, %err, attempt, "PET not sent");
            }
            match tokio::time::timeout(wait, &mut ack).await {
                Ok(Ok(())) => {
                    info!(selector, %target, attempt, "PET acknowledged");
                    return Delivery::Acknowledged;
                }
                // Not waited on any more (cannot happen while this holds
                // the receiver): stop retrying.
                Ok(Err(_)) => break,
                Err(_) => {}
            }
        }
        drop(ack);
        {
            let mut waiting_acks = self.lock_acks();
            if let Some(waiting) = waiting_acks.get_mut(&key) {
                waiting.retain(|sender| !sender.is_closed());
                if waiting.is_empty() {
                    waiting_acks.remove(&key);
                }
            }
        }
        warn!(
            selector,
            %target,
            attempts,
            "PET to an acknowledged destination never acknowledged: given up"
        );
        Delivery::NotAcknowledged
    }

    fn lock_acks(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 12], Vec<oneshot::Sender<()>>>> {
        self.waiting_acks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn send_trap(
        &self,
        target: SocketAddr,
        community: &[u8],
        fields: &PetFields,
        specific: u32,
    ) -> std::io::Result<()> {
        let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).await?;
        socket.connect(target).await?;
        let agent_addr = match socket.local_addr()? {
            SocketAddr::V4(local) => local.ip().octets(),
            SocketAddr::V6(_) => [0; 4],
        };
        let varbind = fields.varbind();
        let ticks = self.started.elapsed().as_millis() / 10;
        let trap = Trap {
            community,
            agent_addr,
            specific,
            uptime_ticks: u32::try_from(ticks % (1 << 32)).unwrap_or(0),
            varbind: &varbind,
        };
        socket.send(&trap.encode()).await.map(|_| ())
    }

    /// PET Acknowledge (data after the command): stops the retries of the
    /// trap it names. Answered 00h whether or not one waits, as BMCs do
    /// (a trap receiver cannot tell which traps wanted one).
    pub fn acknowledge(&self, data: &[u8]) -> HandlerResult {
        let key: [u8; 12] = data
            .try_into()
            .map_err(|_| CompletionCode::REQUEST_DATA_LENGTH_INVALID)?;
        match self.lock_acks().remove(&key) {
            Some(waiting) => {
                for alert in waiting {
                    let _ = alert.send(());
                }
            }
            None => debug!(?key, "PET Acknowledge for no waiting alert"),
        }
        Ok(Vec::new())
    }

    /// Alert Immediate (data after the command).
    pub async fn alert_immediate(self: &Arc<Self>, data: &[u8]) -> HandlerResult {
        let (channel, operation_dest, string) = match data {
            [c, o, s] | [c, o, s, _, _, _, _, _, _, _, _] => (*c, *o, *s),
            _ => return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID),
        };
        if channel & 0xF0 != 0 || operation_dest & 0x30 != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        if channel & 0x0F != self.identity.channel {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let selector = operation_dest & 0x0F;
        match operation_dest >> 6 {
            1 => return Ok(vec![*self.lock_immediate()]),
            2 => {
                *self.lock_immediate() = 0;
                return Ok(Vec::new());
            }
            3 => return Err(CompletionCode::INVALID_DATA_FIELD),
            _ => {}
        }
        let destination = match self.destination(selector).await {
            Ok(destination) => destination,
            Err(CommonError::InvalidArgument(_)) => {
                return Err(CompletionCode::PARAMETER_OUT_OF_RANGE)
            }
            Err(_) => return Err(CompletionCode::NODE_BUSY),
        };
        {
            let mut status = self.lock_immediate();
            if *status == 0xFF {
                return Err(CompletionCode(0x81));
            }
            *status = 0xFF;
        }
        let event = match data.get(3..) {
            Some([generator, evm_rev, sensor_type, number, dir_type, d1, d2, d3]) => Event {
                record_id: 0,
                timestamp: 0,
                generator_id: u16::from(*generator),
                evm_rev: *evm_rev,
                sensor_type: *sensor_type,
                sensor_number: *number,
                dir_type: *dir_type,
                data: [*d1, *d2, *d3],
            },
            _ => Event {
                record_id: 0,
                timestamp: 0,
                generator_id: 0x20,
                evm_rev: 0x04,
                sensor_type: 0,
                sensor_number: 0xFF,
                dir_type: 0,
                // Offset unspecified.
                data: [0x0F, 0xFF, 0xFF],
            },
        };
        let Some(settings) = self.pef.settings().await else {
            *self.lock_immediate() = 0;
            return Err(CompletionCode::NODE_BUSY);
        };
        let text = if string & 0x80 != 0 {
            settings
                .alert_string(string & 0x7F)
                .map(|s| s.text().to_vec())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut fields = self.fields(&settings, &event, 0x00, text);
        // No SEL record: the timestamp is now.
        fields.timestamp = ipmi_pef::pet::pet_timestamp(unix_now());
        let alerter = self.clone();
        tokio::spawn(async move {
            let delivery = alerter
                .deliver_to(selector, destination, fields, specific_trap(&event))
                .await;
            info!(selector, ?delivery, "Alert Immediate done");
            *alerter.lock_immediate() = delivery.status();
        });
        Ok(Vec::new())
    }

    fn lock_immediate(&self) -> std::sync::MutexGuard<'_, u8> {
        self.immediate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The alert string a policy entry's key picks: bit 7 set, the string
/// whose key is (the filter, the set [6:0]); otherwise string [6:0].
fn alert_string(settings: &PefSettings, filter: u8, key: u8) -> Vec<u8> {
    let set = key & 0x7F;
    let string = if key & 0x80 != 0 {
        (0..=ipmi_pef::params::ALERT_STRING_COUNT)
            .filter_map(|selector| settings.alert_string(selector))
            .find(|s| s.key == [filter, set])
    } else {
        settings.alert_string(set)
    };
    string.map(|s| s.text().to_vec()).unwrap_or_default()
}

/// Delivers queued alerts, at most [`IN_FLIGHT`] at once.
async fn deliver_queued(alerter: Arc<Alerter>, mut queued: mpsc::Receiver<(Event, AlertRequest)>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some((event, request)) = queued.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let alerter = alerter.clone();
        tokio::spawn(async move {
            alerter.run_policy(event, request).await;
            drop(slot);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_key_picks_the_alert_string() {
        let mut settings = PefSettings::default();
        settings
            .set(13, &[[2, 1].as_slice(), b"fan failed\0"].concat())
            .unwrap();
        settings.set(12, &[2, 5, 3]).unwrap();
        settings
            .set(13, &[[1, 1].as_slice(), b"direct\0"].concat())
            .unwrap();
        // Event-specific: filter 5, set 3 is string 2.
        assert_eq!(alert_string(&settings, 5, 0x83), b"fan failed");
        assert_eq!(alert_string(&settings, 4, 0x83), b"");
        // Direct: string 1.
        assert_eq!(alert_string(&settings, 5, 0x01), b"direct");
        assert_eq!(alert_string(&settings, 5, 0x7F), b"");
    }
}
