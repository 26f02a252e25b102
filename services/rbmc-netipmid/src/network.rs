//! The owner of the LAN channel's address parameters (LAN Configuration
//! Parameters 0, 3-6, 12-15, 20 and 21): one task holds
//! [`LanAddressing`] and, with `[lan.networkd]`, the [`Networkd`] applier,
//! and runs one Get or Set at a time, so a change is staged, carried out
//! and acknowledged before the next is looked at. A Set is answered only
//! once networkd has the settings durably and took them; a failed change
//! leaves the settings, the files and the interface as they were.
//!
//! The same task answers what is in effect ([`NetworkHandle::in_effect`])
//! for the interface's D-Bus objects (`crate::network_objects`).

use std::sync::Arc;

use ipmi_lan::{
    lan_addressing::{InEffect, LanAddressing, NetworkSettings, SetOutcome},
    lan_params::LanSnapshot,
};
use ipmi_router::HandlerResult;
use ipmi_wire::CompletionCode;
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use crate::{lan_info::LanSource, networkd::Networkd};

/// A request for the task.
enum Job {
    /// Get or Set LAN Configuration Parameters.
    Parameter {
        set: bool,
        data: Vec<u8>,
        present: u8,
        reply: oneshot::Sender<HandlerResult>,
    },
    /// What is in effect.
    InEffect(oneshot::Sender<InEffect>),
    /// Restart DHCP (DCMI's Activate DHCP).
    RestartDhcp(oneshot::Sender<HandlerResult>),
}

/// How handlers reach the task.
#[derive(Clone, Debug)]
pub struct NetworkHandle {
    jobs: mpsc::Sender<Job>,
}

impl NetworkHandle {
    /// Starts the task for `channel`'s interface, read through `source`;
    /// changes go through `networkd` if there is one, else are refused as
    /// read-only.
    pub fn spawn(channel: u8, source: Arc<LanSource>, networkd: Option<Networkd>) -> Self {
        let (jobs, mailbox) = mpsc::channel(16);
        tokio::spawn(run(channel, source, networkd, mailbox));
        Self { jobs }
    }

    /// Get LAN Configuration Parameters for an address parameter.
    pub async fn get(&self, data: Vec<u8>, present: u8) -> HandlerResult {
        self.ask(false, data, present).await
    }

    /// Set LAN Configuration Parameters for an address parameter.
    pub async fn set(&self, data: Vec<u8>, present: u8) -> HandlerResult {
        self.ask(true, data, present).await
    }

    async fn ask(&self, set: bool, data: Vec<u8>, present: u8) -> HandlerResult {
        let (reply, answer) = oneshot::channel();
        let job = Job::Parameter {
            set,
            data,
            present,
            reply,
        };
        self.jobs
            .send(job)
            .await
            .map_err(|_| CompletionCode::NODE_BUSY)?;
        answer.await.map_err(|_| CompletionCode::UNSPECIFIED)?
    }

    /// Restarts DHCP on the interface (DCMI's Activate DHCP): D5h while
    /// the address is static or no networkd applies the settings.
    pub async fn restart_dhcp(&self) -> HandlerResult {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job::RestartDhcp(reply))
            .await
            .map_err(|_| CompletionCode::NODE_BUSY)?;
        answer.await.map_err(|_| CompletionCode::UNSPECIFIED)?
    }

    /// The interface's settings in effect; `None` if the task has ended.
    pub async fn in_effect(&self) -> Option<InEffect> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job::InEffect(reply)).await.ok()?;
        answer.await.ok()
    }
}

async fn snapshot(source: &Arc<LanSource>) -> LanSnapshot {
    let source = source.clone();
    tokio::task::spawn_blocking(move || source.snapshot())
        .await
        .unwrap_or_default()
}

async fn run(
    channel: u8,
    source: Arc<LanSource>,
    networkd: Option<Networkd>,
    mut mailbox: mpsc::Receiver<Job>,
) {
    let live = snapshot(&source).await;
    let settings = networkd
        .as_ref()
        .and_then(Networkd::load)
        .unwrap_or_else(|| NetworkSettings::from_live(&live));
    let mut addressing = LanAddressing::new(channel, settings, networkd.is_some());
    while let Some(job) = mailbox.recv().await {
        let live = snapshot(&source).await;
        let (set, data, present, reply) = match job {
            Job::Parameter {
                set,
                data,
                present,
                reply,
            } => (set, data, present, reply),
            Job::InEffect(reply) => {
                let _ = reply.send(addressing.in_effect(&live));
                continue;
            }
            Job::RestartDhcp(reply) => {
                let answer = match &networkd {
                    Some(networkd) if addressing.in_effect(&live).dhcp => networkd
                        .restart_dhcp()
                        .await
                        .map(|()| Vec::new())
                        .map_err(|err| {
                            warn!(cause = %err, "DHCP not restarted");
                            err.completion_code()
                        }),
                    _ => Err(CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE),
                };
                let _ = reply.send(answer);
                continue;
            }
        };
        let answer = if set {
            match addressing.cmd_set(&data, present, &live) {
                Ok(SetOutcome::Done) => Ok(Vec::new()),
                Ok(SetOutcome::Apply(settings)) => match &networkd {
                    Some(networkd) => match networkd.apply(&settings).await {
                        Ok(()) => {
                            addressing.applied(settings);
                            Ok(Vec::new())
                        }
                        Err(err) => {
                            warn!(cause = %err, "LAN settings not changed");
                            Err(err.completion_code())
                        }
                    },
                    None => Err(ipmi_lan::config_params::CC_READ_ONLY_PARAMETER),
                },
                Err(code) => Err(code),
            }
        } else {
            addressing.cmd_get(&data, present, &live)
        };
        // The asker may have given up (a client's retry): nothing to do.
        let _ = reply.send(answer);
    }
}
