//! The owner side: a table of command handlers, served on D-Bus.
//!
//! An owner daemon builds a [`CommandTable`] over its state, registers one
//! handler per command with the minimum privilege, and serves it with
//! [`register_owner`] (rbmc_daemon's start-up does). The table answers unknown commands with 0xC1 and checks
//! privilege (0xD4) before any handler runs, whoever called.

use std::{collections::HashMap, future::Future, sync::Arc};

use ipmi_wire::{Answer, CompletionCode, NetFn, Privilege};
use tracing::debug;
use zbus::{zvariant::OwnedValue, Connection};

pub use crate::command::Execute;
use rbmc_contracts::CommonError;

use crate::{command::BoxFuture, CommandSpec, Context, HandlerResult, IpmiRequest, OWNER_PATH};

type Handler<S> = Arc<dyn Fn(Arc<S>, IpmiRequest) -> BoxFuture<Answer> + Send + Sync>;
type SyncHandler<S> = fn(&S, &IpmiRequest) -> HandlerResult;

/// Two handlers were registered for one command.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[error("command netfn {netfn:?} cmd {cmd:#04x} registered twice")]
pub struct DuplicateCommand {
    /// NetFn of the command.
    pub netfn: NetFn,
    /// Command code.
    pub cmd: u8,
}

/// An owner's commands and the state they share.
pub struct CommandTable<S> {
    state: Arc<S>,
    entries: HashMap<(u8, u8), (CommandSpec, Handler<S>)>,
    /// Commands a bridge may answer before a session exists (Appendix G's
    /// session-less commands): only the network bridge's table marks any.
    pre_session: std::collections::HashSet<(u8, u8)>,
    /// The handlers that answer without waiting, for [`CommandTable::execute_now`].
    immediate: HashMap<(u8, u8), SyncHandler<S>>,
}

impl<S: Send + Sync + 'static> CommandTable<S> {
    /// An empty table over `state`.
    pub fn new(state: S) -> Self {
        Self {
            state: Arc::new(state),
            entries: HashMap::new(),
            pre_session: std::collections::HashSet::new(),
            immediate: HashMap::new(),
        }
    }

    /// Marks a registered command as answered outside a session too (IPMI
    /// v2.0 §13.5 and Appendix G: the commands that set a session up).
    pub fn allow_pre_session(&mut self, netfn: NetFn, cmd: u8) -> &mut Self {
        if self.entries.contains_key(&(netfn.0, cmd)) {
            self.pre_session.insert((netfn.0, cmd));
        }
        self
    }

    /// Whether the command is answered outside a session.
    pub fn answers_pre_session(&self, netfn: NetFn, cmd: u8) -> bool {
        self.pre_session.contains(&(netfn.0, cmd))
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<S> {
        &self.state
    }

    /// Registers an async handler.
    pub fn add<F, Fut>(
        &mut self,
        netfn: NetFn,
        cmd: u8,
        privilege: Privilege,
        handler: F,
    ) -> Result<&mut Self, DuplicateCommand>
    where
        F: Fn(Arc<S>, IpmiRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = HandlerResult> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.add_answering(netfn, cmd, privilege, move |state, request| {
            let running = handler(state, request);
            async move { Answer::from(running.await) }
        })
    }

    /// Registers an async handler whose answer may carry data with a
    /// completion code other than success (as DCMI's Get Power Limit's
    /// 80h does).
    pub fn add_answering<F, Fut>(
        &mut self,
        netfn: NetFn,
        cmd: u8,
        privilege: Privilege,
        handler: F,
    ) -> Result<&mut Self, DuplicateCommand>
    where
        F: Fn(Arc<S>, IpmiRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        let key = (netfn.0, cmd);
        if self.entries.contains_key(&key) {
            return Err(DuplicateCommand { netfn, cmd });
        }
        let spec = CommandSpec {
            netfn,
            cmd,
            privilege,
        };
        let handler: Handler<S> = Arc::new(move |state, request| Box::pin(handler(state, request)));
        self.entries.insert(key, (spec, handler));
        Ok(self)
    }

    /// Registers a handler that answers without waiting.
    pub fn add_sync(
        &mut self,
        netfn: NetFn,
        cmd: u8,
        privilege: Privilege,
        handler: SyncHandler<S>,
    ) -> Result<&mut Self, DuplicateCommand> {
        self.add(netfn, cmd, privilege, move |state: Arc<S>, request| {
            std::future::ready(handler(&state, &request))
        })?;
        self.immediate.insert((netfn.0, cmd), handler);
        Ok(self)
    }

    /// Runs `request` at once if its handler answers without waiting
    /// (after the same privilege check as [`Execute::execute`]); `None` for
    /// a command that is not here or whose handler waits. A bridge uses it
    /// to answer its own cheap commands without a task, a direct route to
    /// answer without one.
    pub fn execute_now(&self, request: &IpmiRequest) -> Option<HandlerResult> {
        let key = (request.netfn.0, request.cmd);
        let handler = self.immediate.get(&key)?;
        let (spec, _) = self.entries.get(&key)?;
        if request.context.privilege < spec.privilege {
            return Some(Err(CompletionCode::INSUFFICIENT_PRIVILEGE));
        }
        Some(handler(&self.state, request))
    }
}

impl<S: Send + Sync + 'static> Execute for CommandTable<S> {
    fn specs(&self) -> Vec<CommandSpec> {
        let mut specs: Vec<_> = self.entries.values().map(|(spec, _)| *spec).collect();
        specs.sort_by_key(|s| (s.netfn, s.cmd));
        specs
    }

    fn execute(&self, request: IpmiRequest) -> BoxFuture<HandlerResult> {
        let answering = self.answer(request);
        Box::pin(async move { answering.await.into_result() })
    }

    fn answer(&self, request: IpmiRequest) -> BoxFuture<Answer> {
        let Some((spec, handler)) = self.entries.get(&(request.netfn.0, request.cmd)) else {
            return Box::pin(std::future::ready(CompletionCode::INVALID_COMMAND.into()));
        };
        if request.context.privilege < spec.privilege {
            debug!(netfn = ?request.netfn, cmd = request.cmd, have = ?request.context.privilege,
                need = ?spec.privilege, "refused: insufficient privilege");
            return Box::pin(std::future::ready(
                CompletionCode::INSUFFICIENT_PRIVILEGE.into(),
            ));
        }
        handler(self.state.clone(), request)
    }

    fn execute_now(&self, request: &IpmiRequest) -> Option<HandlerResult> {
        CommandTable::execute_now(self, request)
    }
}

/// `xyz.openbmc_project.Ipmi.Server` on an owner.
pub(crate) struct ServerObject {
    table: Arc<dyn Execute>,
}

#[zbus::interface(name = "xyz.openbmc_project.Ipmi.Server")]
impl ServerObject {
    /// Executes one IPMI request and returns the response (OpenBMC's
    /// signature and lower-case name): the response NetFn, LUN, command,
    /// completion code, data.
    #[zbus(name = "execute")]
    async fn execute(
        &self,
        netfn: u8,
        lun: u8,
        cmd: u8,
        data: Vec<u8>,
        options: HashMap<String, OwnedValue>,
    ) -> Result<(u8, u8, u8, u8, Vec<u8>), CommonError> {
        let context = Context::from_options(&options).map_err(|refusal| {
            debug!(refusal, "execute refused: its options");
            CommonError::InvalidArgument(refusal)
        })?;
        let request = IpmiRequest {
            netfn: NetFn(netfn),
            lun,
            cmd,
            data,
            context,
        };
        let response_netfn = NetFn(netfn).response().0;
        let Answer { code, data } = self.table.answer(request).await;
        Ok((response_netfn, lun, cmd, code.0, data))
    }
}

/// `org.rbmc.Ipmi.CommandOwner` on an owner.
struct CommandOwnerObject {
    table: Arc<dyn Execute>,
}

#[zbus::interface(name = "org.rbmc.Ipmi.CommandOwner")]
impl CommandOwnerObject {
    /// Each (netfn, cmd, minimum privilege) this daemon owns.
    #[zbus(property)]
    fn commands(&self) -> Vec<(u8, u8, u8)> {
        self.table
            .specs()
            .into_iter()
            .map(CommandSpec::to_wire)
            .collect()
    }
}

/// Serves `table` at [`OWNER_PATH`] on an existing connection (with the
/// direct route that reaches the same table without the broker); the caller
/// requests its bus name afterwards (for owners that serve more objects
/// than the contract's before they take their name).
pub async fn register_owner(conn: &Connection, table: Arc<dyn Execute>) -> zbus::Result<()> {
    let server = conn.object_server();
    server
        .at(
            OWNER_PATH,
            ServerObject {
                table: table.clone(),
            },
        )
        .await?;
    server
        .at(
            OWNER_PATH,
            CommandOwnerObject {
                table: table.clone(),
            },
        )
        .await?;
    server
        .at(OWNER_PATH, crate::direct::DirectRouteObject::new(table))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(privilege: Privilege) -> Context {
        Context {
            channel: 1,
            privilege,
            user_id: 2,
            session_id: 1,
        }
    }

    fn request(cmd: u8, privilege: Privilege) -> IpmiRequest {
        IpmiRequest {
            netfn: NetFn::CHASSIS,
            lun: 0,
            cmd,
            data: vec![],
            context: ctx(privilege),
        }
    }

    fn table() -> CommandTable<u8> {
        let mut table = CommandTable::new(7u8);
        table
            .add_sync(NetFn::CHASSIS, 0x01, Privilege::User, |s, _| Ok(vec![*s]))
            .unwrap()
            .add_sync(NetFn::CHASSIS, 0x02, Privilege::Operator, |_, _| Ok(vec![]))
            .unwrap();
        table
    }

    #[tokio::test]
    async fn table_checks_privilege_and_unknown_commands() {
        let table = table();
        assert_eq!(
            table.execute(request(0x01, Privilege::User)).await,
            Ok(vec![7])
        );
        assert_eq!(
            table.execute(request(0x02, Privilege::User)).await,
            Err(CompletionCode::INSUFFICIENT_PRIVILEGE)
        );
        assert_eq!(
            table.execute(request(0x02, Privilege::Operator)).await,
            Ok(vec![])
        );
        assert_eq!(
            table.execute(request(0x03, Privilege::Administrator)).await,
            Err(CompletionCode::INVALID_COMMAND)
        );
    }

    #[test]
    fn only_marked_commands_are_answered_before_a_session() {
        let mut table = table();
        table
            .allow_pre_session(NetFn::CHASSIS, 0x01)
            .allow_pre_session(NetFn::CHASSIS, 0x09);
        assert!(table.answers_pre_session(NetFn::CHASSIS, 0x01));
        assert!(!table.answers_pre_session(NetFn::CHASSIS, 0x02));
        // Only registered commands can be marked.
        assert!(!table.answers_pre_session(NetFn::CHASSIS, 0x09));
    }

    #[test]
    fn handlers_that_answer_at_once_run_without_a_task() {
        let table = table();
        assert_eq!(
            table.execute_now(&request(0x01, Privilege::User)),
            Some(Ok(vec![7]))
        );
        assert_eq!(
            table.execute_now(&request(0x02, Privilege::User)),
            Some(Err(CompletionCode::INSUFFICIENT_PRIVILEGE))
        );
        assert_eq!(table.execute_now(&request(0x03, Privilege::User)), None);
        let mut waits = CommandTable::new(());
        waits
            .add(NetFn::CHASSIS, 0x01, Privilege::User, |_, _| async {
                Ok(vec![])
            })
            .unwrap();
        assert_eq!(waits.execute_now(&request(0x01, Privilege::User)), None);
    }

    #[test]
    fn duplicate_registration_is_refused() {
        let mut table = table();
        assert!(table
            .add_sync(NetFn::CHASSIS, 0x01, Privilege::User, |_, _| Ok(vec![]))
            .is_err());
    }

    #[tokio::test]
    async fn contract_over_a_peer_to_peer_connection() {
        use rbmc_contracts::ipmi::{CommandOwnerProxy, IpmiServerProxy};
        let (a, b) = tokio::net::UnixStream::pair().unwrap();
        let guid = zbus::Guid::generate();
        let table: Arc<dyn Execute> = Arc::new(table());
        let server = async {
            zbus::connection::Builder::unix_stream(a)
                .server(guid)
                .unwrap()
                .p2p()
                .serve_at(
                    OWNER_PATH,
                    ServerObject {
                        table: table.clone(),
                    },
                )
                .unwrap()
                .serve_at(
                    OWNER_PATH,
                    CommandOwnerObject {
                        table: table.clone(),
                    },
                )
                .unwrap()
                .build()
                .await
        };
        let client = async {
            zbus::connection::Builder::unix_stream(b)
                .p2p()
                .build()
                .await
        };
        let (server, client) = tokio::try_join!(server, client).unwrap();
        let owner = CommandOwnerProxy::builder(&client)
            .destination("org.rbmc.Test")
            .unwrap()
            .path(OWNER_PATH)
            .unwrap()
            .build()
            .await
            .unwrap();
        assert_eq!(owner.commands().await.unwrap(), vec![(0, 1, 2), (0, 2, 3)]);
        let exec = IpmiServerProxy::builder(&client)
            .destination("org.rbmc.Test")
            .unwrap()
            .build()
            .await
            .unwrap();
        let user = ctx(Privilege::User).to_options();
        assert_eq!(
            exec.execute(0, 0, 0x01, &[], user.clone()).await.unwrap(),
            (1, 0, 0x01, 0x00, vec![7])
        );
        assert_eq!(
            exec.execute(0, 0, 0x02, &[], user).await.unwrap(),
            (1, 0, 0x02, 0xD4, vec![])
        );
        // No options at all: least authority.
        assert_eq!(
            exec.execute(0, 0, 0x01, &[], HashMap::new())
                .await
                .unwrap()
                .3,
            0xD4
        );
        drop(server);
    }
}
