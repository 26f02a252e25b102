//! Accounts on D-Bus (rbmc-userd).
//!
//! OpenBMC's shapes, on the bus names [`crate::names::USERD`] and
//! [`crate::names::USER_MANAGER`]:
//! - `xyz.openbmc_project.User.Manager` at [`USER_ROOT`]: `CreateUser(s
//!   name, as groups, s privilege, b enabled)`, `RenameUser(s name, s
//!   new_name)`, properties `AllPrivileges` and `AllGroups`, signal
//!   `UserRenamed`. Also there, `xyz.openbmc_project.User.AccountPolicy`:
//!   `MaxLoginAttemptBeforeLockout` (q), `AccountUnlockTimeout` (u, s),
//!   `MinPasswordLength` (y), `RememberOldPasswordTimes` (y).
//! - One object per user at `/xyz/openbmc_project/user/<name>` (the name
//!   escaped as [`user_path`] does): `xyz.openbmc_project.User.Attributes`
//!   (`UserGroups`, `UserPrivilege`, `UserEnabled`,
//!   `UserLockedForFailedAttempt`: writing `false` unlocks) and
//!   `xyz.openbmc_project.Object.Delete`; and `org.rbmc.User.Password`
//!   (`SetPassword(s)`), since OpenBMC sets passwords through PAM, which
//!   rbmc does not use.
//!
//! And rbmc's own, for the bridges: `org.rbmc.Userd.Authenticator` at
//! [`AUTHENTICATOR_PATH`] ([`AuthenticatorProxy`]). A bridge hands it the
//! public values of an RMCP+ login and gets back only what the login needs
//! (RAKP 2's code, the session integrity key), never a password. A refusal
//! is an answer, not an error: its RMCP+ status comes back in `status`.

/// The object of the user manager and the account policy.
pub const USER_ROOT: &str = "/xyz/openbmc_project/user";
/// The object of `org.rbmc.Userd.Authenticator`.
pub const AUTHENTICATOR_PATH: &str = "/org/rbmc/Userd";

/// The privileges `CreateUser` and `UserPrivilege` take (OpenBMC's).
pub const PRIVILEGES: [&str; 4] = ["priv-admin", "priv-operator", "priv-user", "priv-noaccess"];
/// The groups `CreateUser` takes: `ipmi` allows IPMI logins, `hostconsole`
/// SOL; the others are accepted and kept for Redfish and future use.
pub const GROUPS: [&str; 5] = ["ipmi", "hostconsole", "redfish", "web", "ssh"];

/// The object path of the user named `name`: OpenBMC's names need no
/// escaping; any other byte becomes `_` and two hex digits.
pub fn user_path(name: &str) -> String {
    let mut path = String::from(USER_ROOT);
    path.push('/');
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("_{byte:02x}"));
        }
    }
    path
}

// zbus generates, for the signal, an argument struct and stream methods
// without docs.
#[allow(missing_docs)]
mod authenticator {
    use crate::CommonError;

    /// Client of `org.rbmc.Userd.Authenticator`.
    #[zbus::proxy(
        interface = "org.rbmc.Userd.Authenticator",
        default_service = "org.rbmc.Userd",
        default_path = "/org/rbmc/Userd"
    )]
    pub trait Authenticator {
        /// RAKP 2 for the login whose transcript is given (IPMI v2.0 §13.31:
        /// the console's and the BMC's session IDs and random numbers, the
        /// BMC's GUID, the requested role byte and the user name). Returns the
        /// RMCP+ status (0 when granted), the user ID, its privilege limit on
        /// the channel, whether it may use SOL, and the code.
        #[allow(clippy::too_many_arguments)]
        fn rakp2(
            &self,
            suite: u8,
            console_session_id: u32,
            bmc_session_id: u32,
            console_random: &[u8],
            bmc_random: &[u8],
            bmc_guid: &[u8],
            role: u8,
            username: &[u8],
            peer: &str,
        ) -> Result<(u8, u8, u8, bool, Vec<u8>), CommonError>;

        /// RAKP 3: checks the console's `code`, or counts the console's refusal
        /// of RAKP 2 (`console_status` not 0). Returns the RMCP+ status (0 when
        /// granted) and the session integrity key.
        #[allow(clippy::too_many_arguments)]
        fn rakp3(
            &self,
            suite: u8,
            console_session_id: u32,
            bmc_session_id: u32,
            console_random: &[u8],
            bmc_random: &[u8],
            bmc_guid: &[u8],
            role: u8,
            username: &[u8],
            peer: &str,
            console_status: u8,
            code: &[u8],
        ) -> Result<(u8, Vec<u8>), CommonError>;

        /// A login with a name and the password itself (Redfish's HTTP Basic
        /// and sessions), counted in the same lockout as RMCP+ logins.
        /// Returns whether it is granted, the user ID, the user's privilege
        /// limit on the LAN channel (IPMI levels: 2 User, 3 Operator, 4
        /// Administrator) and, when refused, why (for the audit trail; a
        /// client is told no more than "refused").
        fn password_login(
            &self,
            username: &str,
            password: &str,
            peer: &str,
        ) -> Result<(bool, u8, u8, String), CommonError>;

        /// LAN parameter 26, Bad Password Threshold: its six data bytes.
        fn bad_password_threshold(&self) -> Result<Vec<u8>, CommonError>;

        /// Sets LAN parameter 26 from its six data bytes; `InvalidArgument`
        /// for a malformed value. Answers once the policy is stored.
        fn set_bad_password_threshold(&self, data: &[u8]) -> Result<(), CommonError>;

        /// The sessions of this user must end: it was deleted or disabled.
        #[zbus(signal)]
        fn sessions_revoked(&self, user_id: u8) -> zbus::Result<()>;
    }
}

pub use authenticator::{AuthenticatorProxy, SessionsRevokedStream};
