//! The task that owns the accounts. Everything that reads or changes them
//! (the IPMI user commands, the bridges' logins, the D-Bus objects) sends
//! it a job through [`AccountsHandle`]; nothing locks them. A change runs
//! on a copy, which replaces the accounts only once the store holds it, so
//! a failed write (a full disk) leaves memory and disk as they were; the
//! caller is answered after that. Failed-login counts ([`Lockout`]) live
//! beside the accounts, in memory only.
//!
//! After each job the task tells the rest of the daemon what changed
//! ([`Changed`]): which users exist now, whose sessions must end, who was
//! locked, so the D-Bus objects and signals follow.

use std::{sync::Arc, time::Instant};

use ipmi_accounts::{Accounts, Lockout};
use rbmc_daemon::durable::DurableFile;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::warn;

use crate::store::Store;

/// Why a change was not made.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError<E> {
    /// The change itself was refused; nothing changed.
    #[error("{0}")]
    Refused(E),
    /// The store could not be written; nothing changed.
    #[error("the accounts could not be stored: {0}")]
    Store(#[source] std::io::Error),
    /// The accounts' task is gone (the daemon is stopping).
    #[error("the accounts are not available")]
    Gone,
}

/// What the accounts and locks look like after a job, for the D-Bus side.
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Snapshot {
    /// (ID, name) of every named user.
    pub users: Vec<(u8, String)>,
    /// Users locked now.
    pub locked: Vec<u8>,
}

/// What a job changed that others must act on.
#[derive(Clone, Debug, Default)]
pub struct Changed {
    /// Users whose sessions must end (deleted, or no longer enabled).
    pub revoked: Vec<u8>,
    /// Users the job locked after failed logins.
    pub locked_now: Vec<u8>,
}

/// A read: runs on the accounts and the locks in place.
type ReadJob = Box<dyn FnOnce(&mut Owner) + Send>;

/// A change: proposes new accounts and locks; `done` hears whether they
/// were stored (and so took effect).
type ChangeJob = Box<dyn FnOnce(&Accounts, &Lockout) -> Proposal + Send>;

enum Job {
    Read(ReadJob),
    Change(ChangeJob),
}

/// What a change job proposes.
struct Proposal {
    /// The new accounts and locks; `None` when the change was refused.
    next: Option<(Accounts, Lockout)>,
    /// Told the outcome: `Ok` once the accounts are stored and in force.
    done: Box<dyn FnOnce(Result<(), std::io::Error>) + Send>,
}

/// The owner task's state.
pub struct Owner {
    accounts: Accounts,
    lockout: Lockout,
    store: Arc<Store>,
    file: DurableFile,
    changes: mpsc::UnboundedSender<Changed>,
    snapshot: watch::Sender<Snapshot>,
}

/// Reaches the owner task.
#[derive(Clone, Debug)]
pub struct AccountsHandle {
    jobs: mpsc::Sender<Job>,
    snapshot: watch::Receiver<Snapshot>,
}

impl AccountsHandle {
    /// Starts the owner task over `accounts`. The receiver yields what
    /// each job changed.
    pub fn spawn(
        accounts: Accounts,
        store: Arc<Store>,
    ) -> (Self, mpsc::UnboundedReceiver<Changed>) {
        let (jobs, mut inbox) = mpsc::channel::<Job>(64);
        let (changes, changed) = mpsc::unbounded_channel();
        let (snapshot, snapshot_rx) = watch::channel(Snapshot::default());
        let file = DurableFile::new(store.path().to_path_buf());
        let mut owner = Owner {
            accounts,
            lockout: Lockout::default(),
            store,
            file,
            changes,
            snapshot,
        };
        owner.publish();
        tokio::spawn(async move {
            loop {
                let deadline = owner.lockout.next_unlock();
                let job = match deadline {
                    Some(at) => tokio::select! {
                        job = inbox.recv() => job,
                        () = tokio::time::sleep_until(at.into()) => {
                            owner.publish();
                            continue;
                        }
                    },
                    None => inbox.recv().await,
                };
                let Some(job) = job else { return };
                match job {
                    Job::Read(read) => read(&mut owner),
                    Job::Change(change) => {
                        let proposal = change(&owner.accounts, &owner.lockout);
                        owner.apply(proposal).await;
                    }
                }
                owner.publish();
            }
        });
        (
            Self {
                jobs,
                snapshot: snapshot_rx,
            },
            changed,
        )
    }

    /// The users and locks as of the last job, as they change.
    pub fn watch(&self) -> watch::Receiver<Snapshot> {
        self.snapshot.clone()
    }

    /// Runs `read` on the accounts and the locks (counting failures is
    /// not a stored change).
    pub async fn with<R: Send + 'static>(
        &self,
        read: impl FnOnce(&Accounts, &mut Lockout, Instant) -> R + Send + 'static,
    ) -> Option<R> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Read(Box::new(move |owner: &mut Owner| {
            let result = read(&owner.accounts, &mut owner.lockout, Instant::now());
            let _ = reply.send(result);
        }));
        self.jobs.send(job).await.ok()?;
        answer.await.ok()
    }

    /// Reports what a read job did to the locks (a login that locked a
    /// user).
    pub async fn report(&self, changed: Changed) {
        let job = Job::Read(Box::new(move |owner: &mut Owner| {
            let _ = owner.changes.send(changed);
        }));
        let _ = self.jobs.send(job).await;
    }

    /// Runs `change` on a copy of the accounts; if it succeeds and the
    /// copy differs, stores the copy and only then makes it the accounts.
    pub async fn change<R, E>(
        &self,
        change: impl FnOnce(&mut Accounts, &mut Lockout, Instant) -> Result<R, E> + Send + 'static,
    ) -> Result<R, ChangeError<E>>
    where
        R: Send + 'static,
        E: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Job::Change(Box::new(move |accounts: &Accounts, lockout: &Lockout| {
            let mut copy = accounts.clone();
            let mut locks = lockout.clone();
            match change(&mut copy, &mut locks, Instant::now()) {
                Ok(value) => Proposal {
                    next: Some((copy, locks)),
                    done: Box::new(move |stored| {
                        let _ = reply.send(stored.map(|()| value).map_err(ChangeError::Store));
                    }),
                },
                Err(err) => {
                    let _ = reply.send(Err(ChangeError::Refused(err)));
                    Proposal {
                        next: None,
                        done: Box::new(|_| {}),
                    }
                }
            }
        }));
        self.jobs.send(job).await.map_err(|_| ChangeError::Gone)?;
        answer.await.map_err(|_| ChangeError::Gone)?
    }
}

impl Owner {
    /// Stores a proposal's accounts (if they differ), then puts them in
    /// force and tells the proposer. A failed write changes nothing.
    async fn apply(&mut self, proposal: Proposal) {
        let Some((accounts, lockout)) = proposal.next else {
            (proposal.done)(Ok(()));
            return;
        };
        if accounts != self.accounts {
            let written = match self.store.encode(&accounts) {
                Ok(bytes) => self.file.begin().await.write(bytes).await,
                Err(err) => Err(std::io::Error::other(err.to_string())),
            };
            if let Err(err) = written {
                warn!(%err, "accounts not stored; the change is refused");
                (proposal.done)(Err(err));
                return;
            }
            let revoked = revoked_users(&self.accounts, &accounts);
            if !revoked.is_empty() {
                let _ = self.changes.send(Changed {
                    revoked,
                    locked_now: Vec::new(),
                });
            }
            self.accounts = accounts;
        }
        self.lockout = lockout;
        (proposal.done)(Ok(()));
    }

    fn publish(&mut self) {
        let now = Instant::now();
        let snapshot = Snapshot {
            users: self
                .accounts
                .users
                .iter()
                .filter(|(_, user)| !user.name.is_empty())
                .map(|(id, user)| (id, String::from_utf8_lossy(&user.name).into_owned()))
                .collect(),
            locked: self.lockout.locked_users(now),
        };
        self.snapshot.send_if_modified(|old| {
            let changed = *old != snapshot;
            *old = snapshot;
            changed
        });
    }
}

/// Users whose sessions must end after `before` became `after`: deleted,
/// renamed, or no longer enabled.
fn revoked_users(before: &Accounts, after: &Accounts) -> Vec<u8> {
    before
        .users
        .iter()
        .filter(|(id, old)| {
            let Some(new) = after.users.get(*id) else {
                return true;
            };
            !old.name.is_empty()
                && (new.name != old.name
                    || (old.enabled == Some(true) && new.enabled != Some(true)))
        })
        .map(|(id, _)| id)
        .collect()
}
