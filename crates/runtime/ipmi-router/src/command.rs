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

    /// Decodes `execute` options. A field that is missing falls back to the
    /// least authority (Callback privilege, channel 0, no user, no
    /// session); a field that is present must be an integer (any D-Bus
    /// integer type) in its range, and the privilege one of the levels
    /// Callback (1) to OEM (5). Anything else is refused, naming the
    /// field, never rounded, masked or replaced by a default: an owner
    /// must not run a command at an authority nobody gave.
    pub fn from_options(options: &HashMap<String, OwnedValue>) -> Result<Self, String> {
        let int = |key: &str| -> Result<Option<i64>, String> {
            let Some(value) = options.get(key) else {
                return Ok(None);
            };
            let number = match &**value {
                Value::U8(v) => i64::from(*v),
                Value::I16(v) => i64::from(*v),
                Value::U16(v) => i64::from(*v),
                Value::I32(v) => i64::from(*v),
                Value::U32(v) => i64::from(*v),
                Value::I64(v) => *v,
                Value::U64(v) => {
                    i64::try_from(*v).map_err(|_| format!("{key} {v} is out of range"))?
                }
                other => {
                    return Err(format!(
                        "{key} is a {}, not an integer",
                        other.value_signature()
                    ))
                }
            };
            Ok(Some(number))
        };
        let byte = |key: &str| -> Result<Option<u8>, String> {
            int(key)?
                .map(|v| u8::try_from(v).map_err(|_| format!("{key} {v} is out of range")))
                .transpose()
        };
        let privilege = match byte("privilege")? {
            None => Privilege::Callback,
            Some(level) => Privilege::from_code(level)
                .ok_or_else(|| format!("privilege {level} is not a privilege level"))?,
        };
        let session_id = match int("currentSessionId")? {
            None => 0,
            Some(v) => {
                u32::try_from(v).map_err(|_| format!("currentSessionId {v} is out of range"))?
            }
        };
        Ok(Self {
            channel: byte("channel")?.unwrap_or(0),
            privilege,
            user_id: byte("userId")?.unwrap_or(0),
            session_id,
        })
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
    /// Runs one request, keeping data that comes with a completion code
    /// other than success (what the transports carry).
    fn answer(&self, request: IpmiRequest) -> BoxFuture<ipmi_wire::Answer> {
        let running = self.execute(request);
        Box::pin(async move { running.await.into() })
    }
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
        assert_eq!(Context::from_options(&options), Ok(ctx));
    }

    /// Issue 16, point 2: privilege 99 used to run as a privilege level
    /// (its low bits), and a wrongly typed one as the least.
    #[test]
    fn options_outside_their_range_are_refused_not_rounded() {
        let options = |key: &str, value: Value<'static>| -> HashMap<String, OwnedValue> {
            HashMap::from([(key.to_owned(), value.try_into().unwrap())])
        };
        for (key, value) in [
            ("privilege", Value::I32(99)),
            ("privilege", Value::I32(0)),
            ("privilege", Value::I32(-4)),
            ("privilege", Value::from("4")),
            ("channel", Value::I32(300)),
            ("userId", Value::Bool(true)),
            ("currentSessionId", Value::I64(-1)),
        ] {
            let refused = Context::from_options(&options(key, value.clone()));
            assert!(refused.is_err(), "{key} = {value:?} accepted: {refused:?}");
            assert!(refused.unwrap_err().contains(key));
        }
        let admin = Context::from_options(&options("privilege", Value::U8(4))).unwrap();
        assert_eq!(admin.privilege, Privilege::Administrator);
    }

    #[test]
    fn missing_options_mean_least_authority() {
        let ctx = Context::from_options(&HashMap::new()).unwrap();
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
