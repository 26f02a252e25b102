//! The task that owns PEF: its settings, parameter 0, and the
//! [`Processor`]. The IPMI commands, the SEL's event feed and the host's
//! power state all reach it through [`PefHandle`]; nothing locks.
//!
//! A Set of a parameter runs on a copy of the settings, which replaces them
//! only once `pef.toml` holds it: a failed write (a full disk) answers
//! C4h/FFh and leaves memory and disk as they were. What processing asks
//! for ([`Output`]) goes to the action task through a bounded queue, so a
//! slow action or alert never holds up the feed; when the queue is full
//! the output is dropped and logged.

use std::{sync::Arc, time::Duration};

use ipmi_pef::{
    filter::Event,
    params::{self, ParamError, PefSettings, SetInProgress, SetRequest},
    processor::{Output, Processor},
};
use ipmi_router::HandlerResult;
use ipmi_wire::CompletionCode;
use tokio::{
    sync::{mpsc, oneshot},
    time::Instant,
};
use tracing::{info, warn};

use crate::store::Store;

/// The most outputs waiting for the action task.
pub const OUTPUT_QUEUE: usize = 1024;

/// A request from the command table.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Command {
    /// Arm PEF Postpone Timer.
    ArmPostpone,
    /// Set PEF Configuration Parameters.
    SetConfig,
    /// Get PEF Configuration Parameters.
    GetConfig,
    /// Set Last Processed Event ID.
    SetLastProcessed,
    /// Get Last Processed Event ID.
    GetLastProcessed,
}

enum Job {
    Command {
        command: Command,
        data: Vec<u8>,
        reply: oneshot::Sender<HandlerResult>,
    },
    Event(Event),
    SystemStarted,
    SelCleared,
    LastAdded(u16, u32),
    Settings(oneshot::Sender<PefSettings>),
}

/// Sends jobs to the PEF task.
#[derive(Clone, Debug)]
pub struct PefHandle {
    jobs: mpsc::UnboundedSender<Job>,
}

impl PefHandle {
    /// Starts the task with `settings`; its outputs go to the returned
    /// receiver.
    pub fn spawn(settings: PefSettings, store: Arc<Store>) -> (Self, mpsc::Receiver<Output>) {
        let (jobs, rx) = mpsc::unbounded_channel();
        let (outputs, outputs_rx) = mpsc::channel(OUTPUT_QUEUE);
        let owner = Owner {
            settings,
            in_progress: SetInProgress::default(),
            processor: Processor::new(),
            store,
            outputs,
            start: Instant::now(),
        };
        tokio::spawn(owner.run(rx));
        (Self { jobs }, outputs_rx)
    }

    /// Runs an IPMI command (its data after the command byte).
    pub async fn command(&self, command: Command, data: Vec<u8>) -> HandlerResult {
        let (reply, answer) = oneshot::channel();
        let job = Job::Command {
            command,
            data,
            reply,
        };
        if self.jobs.send(job).is_err() {
            return Err(CompletionCode::NODE_BUSY);
        }
        answer.await.unwrap_or(Err(CompletionCode::NODE_BUSY))
    }

    /// An event the SEL logged.
    pub fn event(&self, event: Event) {
        let _ = self.jobs.send(Job::Event(event));
    }

    /// The host powered on or was reset.
    pub fn system_started(&self) {
        let _ = self.jobs.send(Job::SystemStarted);
    }

    /// The SEL was cleared.
    pub fn sel_cleared(&self) {
        let _ = self.jobs.send(Job::SelCleared);
    }

    /// The SEL's newest record at start.
    pub fn last_added(&self, record_id: u16, timestamp: u32) {
        let _ = self.jobs.send(Job::LastAdded(record_id, timestamp));
    }

    /// The settings in force.
    pub async fn settings(&self) -> Option<PefSettings> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send(Job::Settings(tx)).ok()?;
        rx.await.ok()
    }
}

struct Owner {
    settings: PefSettings,
    in_progress: SetInProgress,
    processor: Processor,
    store: Arc<Store>,
    outputs: mpsc::Sender<Output>,
    start: Instant,
}

impl Owner {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    async fn run(mut self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        loop {
            let deadline = self.processor.poll_timeout().map(|at| self.start + at);
            let job = tokio::select! {
                job = jobs.recv() => match job {
                    Some(job) => job,
                    None => return,
                },
                () = sleep_until(deadline) => {
                    let outputs = self.processor.handle_timeout(self.now(), &self.settings);
                    self.emit(outputs);
                    continue;
                }
            };
            self.handle(job).await;
        }
    }

    async fn handle(&mut self, job: Job) {
        match job {
            Job::Command {
                command,
                data,
                reply,
            } => {
                let answer = self.command(command, &data).await;
                let _ = reply.send(answer);
            }
            Job::Event(event) => {
                let outputs = self
                    .processor
                    .event_added(self.now(), &self.settings, event);
                self.emit(outputs);
            }
            Job::SystemStarted => self.processor.system_started(self.now(), &self.settings),
            Job::SelCleared => self.processor.sel_cleared(),
            Job::LastAdded(id, timestamp) => self.processor.set_last_added(id, timestamp),
            Job::Settings(tx) => {
                let _ = tx.send(self.settings.clone());
            }
        }
    }

    fn emit(&mut self, outputs: Vec<Output>) {
        for output in outputs {
            if let Err(err) = self.outputs.try_send(output) {
                warn!(?err, "PEF output dropped: the action queue is full");
            }
        }
        let dropped = self.processor.dropped();
        if dropped > 0 {
            warn!(dropped, "events dropped while PEF was held back");
        }
    }

    async fn command(&mut self, command: Command, data: &[u8]) -> HandlerResult {
        let now = self.now();
        match command {
            Command::GetConfig => {
                params::get(&self.settings, self.in_progress, data).map_err(CompletionCode::from)
            }
            Command::SetConfig => self.set_config(data).await.map(|()| Vec::new()),
            Command::ArmPostpone => {
                let (countdown, outputs) = self
                    .processor
                    .arm_postpone(now, &self.settings, data)
                    .map_err(CompletionCode::from)?;
                self.emit(outputs);
                Ok(vec![countdown])
            }
            Command::SetLastProcessed => self
                .processor
                .set_last_processed(data)
                .map(|()| Vec::new())
                .map_err(CompletionCode::from),
            Command::GetLastProcessed => {
                if !data.is_empty() {
                    return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
                }
                Ok(self.processor.last_processed())
            }
        }
    }

    async fn set_config(&mut self, data: &[u8]) -> Result<(), CompletionCode> {
        match params::set_request(data).map_err(CompletionCode::from)? {
            SetRequest::InProgress(value) => {
                self.in_progress.set(value).map_err(CompletionCode::from)
            }
            SetRequest::Stored(parameter, value) => {
                let mut next = self.settings.clone();
                next.set(parameter, value)
                    .map_err(|err: ParamError| CompletionCode::from(err))?;
                if next == self.settings {
                    return Ok(());
                }
                if let Err(err) = self.store.save(&next).await {
                    warn!(%err, parameter, "PEF parameter not stored; nothing changed");
                    return Err(rbmc_daemon::durable::completion_code(&err));
                }
                info!(parameter, "PEF parameter set");
                self.settings = next;
                Ok(())
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
