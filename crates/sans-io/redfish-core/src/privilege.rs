//! Roles and privileges (Redfish specification DSP0266 §13: "Privilege
//! model"; the base PrivilegeRegistry). A user's role follows from the IPMI
//! privilege limit the accounts owner gives it on the LAN channel, as
//! OpenBMC maps `priv-admin`, `priv-operator` and `priv-user`.

/// One of Redfish's predefined roles.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything.
    Administrator,
    /// Configures components (power, boot, identify) but not users or the
    /// manager.
    Operator,
    /// Reads, and changes its own password.
    ReadOnly,
}

/// A privilege of the base PrivilegeRegistry.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Hash)]
pub enum Privilege {
    /// Reads the service (every authenticated request).
    Login,
    /// Changes the manager (network, logs, reset of the BMC).
    ConfigureManager,
    /// Creates, changes and deletes accounts.
    ConfigureUsers,
    /// Changes the caller's own account (its password) and sessions.
    ConfigureSelf,
    /// Changes components (power, boot override, identify LED).
    ConfigureComponents,
}

impl Role {
    /// Every role, for the Roles collection.
    pub const ALL: [Role; 3] = [Role::Administrator, Role::Operator, Role::ReadOnly];

    /// The role of an IPMI privilege limit (IPMI v2.0 Table 6-4: 2 User,
    /// 3 Operator, 4 Administrator). Callback (1) and OEM (5) have no
    /// Redfish role, so such a user cannot log in over Redfish.
    pub fn from_ipmi_privilege(level: u8) -> Option<Self> {
        match level {
            4 => Some(Self::Administrator),
            3 => Some(Self::Operator),
            2 => Some(Self::ReadOnly),
            _ => None,
        }
    }

    /// The IPMI privilege limit this role gives an account created over
    /// Redfish.
    pub fn ipmi_privilege(self) -> u8 {
        match self {
            Self::Administrator => 4,
            Self::Operator => 3,
            Self::ReadOnly => 2,
        }
    }

    /// The role's `Id` (and `RoleId`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Administrator => "Administrator",
            Self::Operator => "Operator",
            Self::ReadOnly => "ReadOnly",
        }
    }

    /// The role named `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.id() == id)
    }

    /// The privileges the role holds (the base PrivilegeRegistry's
    /// predefined roles).
    pub fn privileges(self) -> &'static [Privilege] {
        match self {
            Self::Administrator => &[
                Privilege::Login,
                Privilege::ConfigureManager,
                Privilege::ConfigureUsers,
                Privilege::ConfigureSelf,
                Privilege::ConfigureComponents,
            ],
            Self::Operator => &[
                Privilege::Login,
                Privilege::ConfigureSelf,
                Privilege::ConfigureComponents,
            ],
            Self::ReadOnly => &[Privilege::Login, Privilege::ConfigureSelf],
        }
    }

    /// Whether the role holds `privilege`.
    pub fn has(self, privilege: Privilege) -> bool {
        self.privileges().contains(&privilege)
    }
}

impl Privilege {
    /// The name the PrivilegeRegistry and `AssignedPrivileges` use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Login => "Login",
            Self::ConfigureManager => "ConfigureManager",
            Self::ConfigureUsers => "ConfigureUsers",
            Self::ConfigureSelf => "ConfigureSelf",
            Self::ConfigureComponents => "ConfigureComponents",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_ipmi_privilege_limit() {
        assert_eq!(Role::from_ipmi_privilege(4), Some(Role::Administrator));
        assert_eq!(Role::from_ipmi_privilege(3), Some(Role::Operator));
        assert_eq!(Role::from_ipmi_privilege(2), Some(Role::ReadOnly));
        for level in [0, 1, 5, 0x0F] {
            assert_eq!(Role::from_ipmi_privilege(level), None, "{level}");
        }
        for role in Role::ALL {
            assert_eq!(Role::from_ipmi_privilege(role.ipmi_privilege()), Some(role));
            assert_eq!(Role::from_id(role.id()), Some(role));
        }
    }

    #[test]
    fn only_administrators_configure_users_and_the_manager() {
        assert!(Role::Administrator.has(Privilege::ConfigureUsers));
        assert!(!Role::Operator.has(Privilege::ConfigureUsers));
        assert!(!Role::Operator.has(Privilege::ConfigureManager));
        assert!(Role::Operator.has(Privilege::ConfigureComponents));
        assert!(!Role::ReadOnly.has(Privilege::ConfigureComponents));
        for role in Role::ALL {
            assert!(role.has(Privilege::Login) && role.has(Privilege::ConfigureSelf));
        }
    }
}
