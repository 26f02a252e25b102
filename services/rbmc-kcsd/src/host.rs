//! One host request, whatever carried it: `netFn<<2|LUN, cmd, data` in,
//! `netFn<<2|LUN, cmd, completion code, data` out, routed with the system
//! interface's context (channel 0Fh, no session; the host's firmware and OS
//! act with Administrator authority, as on OpenBMC). Every command that
//! changes state is recorded in the audit trail (source `kcs`, channel
//! 0Fh, no user or address: the host side has neither).

use ipmi_router::{audit::Auditor, Context, IpmiRequest, Router};
use ipmi_wire::{CompletionCode, NetFn, Privilege};

/// The system interface channel (IPMI v2.0 §6.3).
pub const SYSTEM_INTERFACE: u8 = 0x0F;

/// The way a host request goes: the router, and the audit trail.
#[derive(Clone)]
pub struct HostPath {
    /// The router to the owners.
    pub router: Router,
    /// The audit trail.
    pub auditor: Auditor,
}

impl HostPath {
    /// Routes one request and records it if it changes state.
    pub async fn handle(&self, request: &[u8]) -> Option<Vec<u8>> {
        let response = handle(&self.router, request).await?;
        if let ([netfn_lun, cmd, ..], [_, _, code, ..]) = (request, response.as_slice()) {
            let outcome = match *code {
                0 => Ok(()),
                cc => Err(CompletionCode(cc)),
            };
            self.auditor.command(
                "kcs",
                String::new(),
                String::new(),
                SYSTEM_INTERFACE,
                NetFn(netfn_lun >> 2),
                *cmd,
                outcome,
            );
        }
        Some(response)
    }
}

/// Routes one request and builds the response bytes; `None` if the request
/// is too short to answer (no netFn and command to echo).
pub async fn handle(router: &Router, request: &[u8]) -> Option<Vec<u8>> {
    let [netfn_lun, cmd, data @ ..] = request else {
        return None;
    };
    let netfn = NetFn(netfn_lun >> 2);
    let lun = netfn_lun & 0x03;
    let answer = if netfn.is_request() {
        router
            .route_answer(IpmiRequest {
                netfn,
                lun,
                cmd: *cmd,
                data: data.to_vec(),
                context: Context {
                    channel: SYSTEM_INTERFACE,
                    privilege: Privilege::Administrator,
                    user_id: 0,
                    session_id: 0,
                },
            })
            .await
    } else {
        // A response NetFn from the host is not a request.
        CompletionCode::INVALID_COMMAND.into()
    };
    let ipmi_wire::Answer { code, data } = answer;
    let mut out = vec![(netfn.response().0 << 2) | lun, *cmd, code.0];
    out.extend_from_slice(&data);
    Some(out)
}
