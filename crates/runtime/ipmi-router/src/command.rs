//! The values that cross the routing contract.

use std::{collections::HashMap, future::Future, pin::Pin};

use ipmi_wire::{CompletionCode, NetFn, Privilege};
use zbus::zvariant::{OwnedValue, Value};

/// A boxed future, as [`Execute`] returns.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The result of executing a command: response data after the completion
/// code, or a completion code other than success.
pub type HandlerResult = Result<Vec<u8>, CompletionCode>;

/// One command an owner declares: who may run it.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct CommandSpec {
    /// Request NetFn.
    pub netfn: NetFn,
    /// Command code.
    pub cmd: u8,
    /// The lowest privilege allowed to run it.
    pub privilege: Privilege,
}

impl CommandSpec {
    /// The D-Bus form `(yyy)`.
    pub fn to_wire(self) -> (u8, u8, u8) {
        (self.netfn.0, self.cmd, self.privilege.level())
    }

    /// Parses the D-Bus form; `None` for a bad NetFn or privilege.
    pub fn from_wire((netfn, cmd, privilege): (u8, u8, u8)) -> Option<Self> {
        let netfn = NetFn(netfn);
        if !netfn.is_request() || netfn.0 > 0x3F {
            return None;
        }
        Some(Self {
            netfn,
            cmd,
            privilege: Privilege::from_level(privilege).filter(|_| privilege <= 5)?,
        })
    }
}

/// Where a request came from and with what authority.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Context {
    /// IPMI channel number (1 = LAN, 0xF = system interface).
    pub channel: u8,
    /// The session's privilege level (system interface: Administrator).
    pub privilege: Privilege,
    /// The user's ID (0 when there is no session).
    pub user_id: u8,
    /// The BMC's session ID (0 when there is no session).
    pub session_id: u32,
}

impl Context {
    /// Encodes the context as `execute` options.
    pub fn to_options(self) -> HashMap<&'static str, Value<'static>> {
        HashMap::from([
            ("channel", Value::U8(self.channel)),
            ("privilege", Value::I32(self.privilege.level().into())),
            ("userId", Value::I32(self.user_id.into())),
            ("currentSessionId", Value::U32(self.session_id)),
        ])
    }

    /// Decodes `execute` options. Missing or malformed fields fall back to
    /// the least authority: Callback privilege, channel 0, no user.
    pub fn from_options(options: &HashMap<String, OwnedValue>) -> Self {
        let int = |key: &str| -> Option<i64> {
            match options.get(key).map(|v| &**v) {
                Some(Value::U8(v)) => Some((*v).into()),
                Some(Value::I32(v)) => Some((*v).into()),
                Some(Value::U32(v)) => Some((*v).into()),
                Some(Value::I64(v)) => Some(*v),
                _ => None,
            }
        };
        let byte = |key: &str| int(key).and_then(|v| u8::try_from(v).ok());
        Self {
            channel: byte("channel").unwrap_or(0),
            privilege: byte("privilege")
                .and_then(Privilege::from_level)
                .unwrap_or(Privilege::Callback),
            user_id: byte("userId").unwrap_or(0),
            session_id: int("currentSessionId")
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(0),
        }
    }
}

/// A request as an owner's handler sees it.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct IpmiRequest {
    /// Request NetFn.
    pub netfn: NetFn,
    /// Responder LUN.
    pub lun: u8,
    /// Command code.
    pub cmd: u8,
    /// Request data.
    pub data: Vec<u8>,
    /// Who asked.
    pub context: Context,
}

/// Anything that executes routed requests: a `CommandTable`, or a test
/// double in a bridge's own tests.
pub trait Execute: Send + Sync + 'static {
    /// The commands declared, with their minimum privilege.
    fn specs(&self) -> Vec<CommandSpec>;
    /// Runs one request.
    fn execute(&self, request: IpmiRequest) -> BoxFuture<HandlerResult>;
    /// Runs `request` at once if its handler answers without waiting;
    /// `None` if it waits (then [`Execute::execute`] runs it).
    fn execute_now(&self, _request: &IpmiRequest) -> Option<HandlerResult> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_round_trips_through_options() {
        let ctx = Context {
            channel: 1,
            privilege: Privilege::Operator,
            user_id: 3,
            session_id: 0xDEAD_BEEF,
        };
        let options: HashMap<String, OwnedValue> = ctx
            .to_options()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.try_into().unwrap()))
            .collect();
        assert_eq!(Context::from_options(&options), ctx);
    }

    #[test]
    fn missing_options_mean_least_authority() {
        let ctx = Context::from_options(&HashMap::new());
        assert_eq!(ctx.privilege, Privilege::Callback);
        assert_eq!(ctx.user_id, 0);
    }

    #[test]
    fn command_spec_wire_form_is_validated() {
        assert_eq!(
            CommandSpec::from_wire((0x06, 0x01, 2)),
            Some(CommandSpec {
                netfn: NetFn::APP,
                cmd: 0x01,
                privilege: Privilege::User
            })
        );
        assert_eq!(CommandSpec::from_wire((0x07, 0x01, 2)), None);
        assert_eq!(CommandSpec::from_wire((0x06, 0x01, 0)), None);
        assert_eq!(CommandSpec::from_wire((0x06, 0x01, 9)), None);
    }
}
