//! The account policy: when failed logins lock a user and for how long,
//! and what a new password must be. The same settings are OpenBMC's
//! `xyz.openbmc_project.User.AccountPolicy` properties and IPMI LAN
//! parameter 26 (1Ah), Bad Password Threshold (IPMI v2.0 errata, Table
//! 23-4), whose wire form [`AccountPolicy::bad_password_threshold`] and
//! [`AccountPolicy::set_bad_password_threshold`] read and write.
//!
//! Parameter 26 counts its intervals in tens of seconds, so a time set
//! over D-Bus that is not a multiple of ten reads back rounded up there.

use std::time::Duration;

use ipmi_wire::CompletionCode;

/// The account policy.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct AccountPolicy {
    /// Consecutive failed logins that lock a user; 0 turns lockout off.
    /// At most 255, the width of parameter 26's threshold byte.
    pub max_failed_logins: u8,
    /// How long a lock lasts; zero means until an administrator unlocks.
    pub unlock_timeout: Duration,
    /// How long failures are remembered after the last one; zero means
    /// until a successful login.
    pub attempt_reset_interval: Duration,
    /// A lock writes a Session Audit "invalid password disable" event to
    /// the SEL (parameter 26, byte 1 bit 0).
    pub lockout_event: bool,
    /// Shortest password a user may be given (1-20).
    pub min_password_length: u8,
    /// How many earlier passwords of a user cannot be set again (0-16).
    pub remember_old_passwords: u8,
}

impl Default for AccountPolicy {
    /// Five failures lock a user for 300 s, as OpenBMC's defaults do: an
    /// operator who mistypes a few times is not stopped, a guesser gets
    /// five tries each five minutes (under 1,500 a day), and the lock ends
    /// by itself, so an attacker cannot keep an administrator out for good
    /// by failing on purpose. Failures are forgotten 300 s after the last
    /// one: no longer than the lock lasts, as Redfish asks of
    /// `AccountLockoutCounterResetAfter`. Passwords need 8 characters.
    fn default() -> Self {
        Self {
            max_failed_logins: 5,
            unlock_timeout: Duration::from_secs(300),
            attempt_reset_interval: Duration::from_secs(300),
            lockout_event: true,
            min_password_length: 8,
            remember_old_passwords: 0,
        }
    }
}

/// The longest interval parameter 26 can carry: 65535 tens of seconds.
pub const MAX_INTERVAL: Duration = Duration::from_secs(655_350);
/// The most earlier passwords kept per user.
pub const MAX_REMEMBERED: u8 = 16;

/// Why a policy value was refused.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// An interval longer than parameter 26 can carry.
    #[error("intervals must be at most 655350 s")]
    Interval,
    /// A minimum length outside 1-20.
    #[error("the minimum password length must be 1-20")]
    MinLength,
    /// Too many remembered passwords.
    #[error("at most 16 earlier passwords can be remembered")]
    Remembered,
}

impl AccountPolicy {
    /// Checks every value; a policy that passes can be stored.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.unlock_timeout > MAX_INTERVAL || self.attempt_reset_interval > MAX_INTERVAL {
            return Err(PolicyError::Interval);
        }
        if !(1..=20).contains(&self.min_password_length) {
            return Err(PolicyError::MinLength);
        }
        if self.remember_old_passwords > MAX_REMEMBERED {
            return Err(PolicyError::Remembered);
        }
        Ok(())
    }

    /// LAN parameter 26's six data bytes: the event flag, the threshold,
    /// then the attempt count reset interval and the user lockout interval
    /// in tens of seconds, least significant byte first.
    pub fn bad_password_threshold(&self) -> [u8; 6] {
        let tens = |d: Duration| -> [u8; 2] {
            let tens = d.as_secs().div_ceil(10);
            u16::try_from(tens).unwrap_or(u16::MAX).to_le_bytes()
        };
        let reset = tens(self.attempt_reset_interval);
        let lockout = tens(self.unlock_timeout);
        [
            u8::from(self.lockout_event),
            self.max_failed_logins,
            reset[0],
            reset[1],
            lockout[0],
            lockout[1],
        ]
    }

    /// Sets parameter 26 from its six data bytes (reserved bits must be
    /// zero).
    pub fn set_bad_password_threshold(&mut self, data: &[u8]) -> Result<(), CompletionCode> {
        let [flags, threshold, reset_lo, reset_hi, lockout_lo, lockout_hi] = data else {
            return Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID);
        };
        if flags & 0xFE != 0 {
            return Err(CompletionCode::INVALID_DATA_FIELD);
        }
        let tens =
            |lo: u8, hi: u8| Duration::from_secs(u64::from(u16::from_le_bytes([lo, hi])) * 10);
        self.lockout_event = flags & 0x01 != 0;
        self.max_failed_logins = *threshold;
        self.attempt_reset_interval = tens(*reset_lo, *reset_hi);
        self.unlock_timeout = tens(*lockout_lo, *lockout_hi);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_26_round_trips_in_tens_of_seconds() {
        let mut policy = AccountPolicy::default();
        assert_eq!(policy.bad_password_threshold(), [1, 5, 30, 0, 30, 0]);
        policy
            .set_bad_password_threshold(&[0, 3, 0x10, 0x27, 6, 0])
            .unwrap();
        assert_eq!(policy.max_failed_logins, 3);
        assert!(!policy.lockout_event);
        assert_eq!(policy.attempt_reset_interval, Duration::from_secs(100_000));
        assert_eq!(policy.unlock_timeout, Duration::from_secs(60));
        assert_eq!(policy.bad_password_threshold(), [0, 3, 0x10, 0x27, 6, 0]);
        // A D-Bus value between tens reads back rounded up.
        policy.unlock_timeout = Duration::from_secs(61);
        assert_eq!(policy.bad_password_threshold()[4], 7);
    }

    #[test]
    fn parameter_26_refuses_bad_forms_and_keeps_the_policy() {
        let mut policy = AccountPolicy::default();
        assert_eq!(
            policy.set_bad_password_threshold(&[2, 3, 0, 0, 0, 0]),
            Err(CompletionCode::INVALID_DATA_FIELD)
        );
        assert_eq!(
            policy.set_bad_password_threshold(&[0, 3, 0, 0, 0]),
            Err(CompletionCode::REQUEST_DATA_LENGTH_INVALID)
        );
        assert_eq!(policy, AccountPolicy::default());
    }

    #[test]
    fn validation_names_the_bad_value() {
        let bad = |change: fn(&mut AccountPolicy)| {
            let mut policy = AccountPolicy::default();
            change(&mut policy);
            policy.validate().unwrap_err()
        };
        assert_eq!(bad(|p| p.min_password_length = 0), PolicyError::MinLength);
        assert_eq!(bad(|p| p.min_password_length = 21), PolicyError::MinLength);
        assert_eq!(
            bad(|p| p.remember_old_passwords = 17),
            PolicyError::Remembered
        );
        assert_eq!(
            bad(|p| p.unlock_timeout = MAX_INTERVAL + Duration::from_secs(1)),
            PolicyError::Interval
        );
        assert_eq!(AccountPolicy::default().validate(), Ok(()));
    }
}
