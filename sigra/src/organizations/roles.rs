//! Roles and what each may do: one table, [`Role::OWNER`], [`Role::ADMIN`] and
//! [`Role::MEMBER`] below, read by [`Role::may`] and nowhere else. A host adds roles in code
//! with [`Role::custom`] and registers them on the builder
//! ([`crate::SigraBuilder::organization_roles`]); a stored role this build does not know grants
//! nothing, so its member is treated as no member at all.
//!
//! | action | owner | admin | member |
//! |---|---|---|---|
//! | `view_organization` | yes | yes | yes |
//! | `view_members` | yes | yes | yes |
//! | `invite_members` | yes | yes | no |
//! | `manage_members` (roles and removal of non-owners) | yes | yes | no |
//! | `update_settings` (name, two-factor requirement) | yes | yes | no |
//! | `manage_owners` (make, unmake and remove owners) | yes | no | no |
//! | `change_slug` | yes | no | no |
//! | `delete_organization` | yes | no | no |

use std::fmt;

use crate::error::{Error, Result};

crate::db::stored_enum! {
    /// Something a member may do in an organization.
    pub enum OrgAction {
        /// See the organization.
        ViewOrganization = "view_organization",
        /// See who the members are.
        ViewMembers = "view_members",
        /// Invite people by email, list and revoke invitations.
        InviteMembers = "invite_members",
        /// Add members, change the role of, and remove, members who are not owners.
        ManageMembers = "manage_members",
        /// Rename the organization, require a second factor of its members.
        UpdateSettings = "update_settings",
        /// Make members owners, and change the role of or remove an owner.
        ManageOwners = "manage_owners",
        /// Change the slug (its URLs).
        ChangeSlug = "change_slug",
        /// Delete the organization.
        DeleteOrganization = "delete_organization",
    }
}

impl OrgAction {
    /// Whether the action changes the organization or its members (anything but looking).
    pub fn is_administrative(self) -> bool {
        !matches!(self, Self::ViewOrganization | Self::ViewMembers)
    }
}

/// A role: its stored name and the actions it grants. Roles compare by name.
#[derive(Clone, Copy)]
pub struct Role {
    name: &'static str,
    grants: &'static [OrgAction],
}

impl Role {
    /// Everything, and the last one can never go: an organization always has an owner.
    pub const OWNER: Role = Role {
        name: "owner",
        grants: OrgAction::ALL,
    };
    /// Runs the organization day to day: members, invitations, settings; not its owners,
    /// slug or existence.
    pub const ADMIN: Role = Role {
        name: "admin",
        grants: &[
            OrgAction::ViewOrganization,
            OrgAction::ViewMembers,
            OrgAction::InviteMembers,
            OrgAction::ManageMembers,
            OrgAction::UpdateSettings,
        ],
    };
    /// Belongs, and sees who else does.
    pub const MEMBER: Role = Role {
        name: "member",
        grants: &[OrgAction::ViewOrganization, OrgAction::ViewMembers],
    };
    /// The built-in roles, most powerful first.
    pub const BUILT_IN: [Role; 3] = [Role::OWNER, Role::ADMIN, Role::MEMBER];

    /// A host's own role: a name of lowercase letters and underscores (checked when it is
    /// registered) and the actions it grants.
    pub const fn custom(name: &'static str, grants: &'static [OrgAction]) -> Role {
        Role { name, grants }
    }

    /// The stored name.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// Whether this role allows `action`: the one permission check.
    pub fn may(self, action: OrgAction) -> bool {
        self.grants.contains(&action)
    }

    /// Whether this is the owner role (the one the last-owner guard keeps).
    pub fn is_owner(self) -> bool {
        self == Role::OWNER
    }

    /// Whether this role may do anything besides looking.
    pub fn administers(self) -> bool {
        self.grants.iter().any(|action| action.is_administrative())
    }
}

impl PartialEq for Role {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Role {}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Role({})", self.name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The roles this build knows: the built-in ones and the host's.
#[derive(Clone, Debug)]
pub struct RoleRegistry {
    roles: Vec<Role>,
}

impl RoleRegistry {
    /// The built-in roles plus `host`.
    ///
    /// # Errors
    /// A host role's name is not lowercase letters and underscores, or is taken.
    pub fn new(host: &[Role]) -> Result<Self> {
        let mut roles = Role::BUILT_IN.to_vec();
        for role in host {
            let well_formed = !role.name.is_empty()
                && role
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_');
            if !well_formed || roles.contains(role) {
                return Err(Error::Internal(
                    format!(
                        "the host role `{}` needs a new name of lowercase letters and underscores",
                        role.name
                    )
                    .into(),
                ));
            }
            roles.push(*role);
        }
        Ok(Self { roles })
    }

    /// Every known role, built-in ones first.
    pub fn all(&self) -> &[Role] {
        &self.roles
    }

    /// The role stored or asked for under `name`.
    pub fn find(&self, name: &str) -> Option<Role> {
        self.roles.iter().copied().find(|role| role.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrgAction::*;

    /// The table in the module documentation (and the README), row by row.
    #[test]
    fn the_permission_table_is_the_documented_one() {
        let table = [
            (ViewOrganization, [true, true, true]),
            (ViewMembers, [true, true, true]),
            (InviteMembers, [true, true, false]),
            (ManageMembers, [true, true, false]),
            (UpdateSettings, [true, true, false]),
            (ManageOwners, [true, false, false]),
            (ChangeSlug, [true, false, false]),
            (DeleteOrganization, [true, false, false]),
        ];
        assert_eq!(table.len(), OrgAction::ALL.len(), "every action has a row");
        for (action, allowed) in table {
            for (role, allowed) in Role::BUILT_IN.iter().zip(allowed) {
                assert_eq!(role.may(action), allowed, "{role} may {action}");
            }
        }
    }

    #[test]
    fn only_owners_and_admins_administer() {
        assert!(Role::OWNER.administers());
        assert!(Role::ADMIN.administers());
        assert!(!Role::MEMBER.administers());
        assert!(Role::OWNER.is_owner());
        assert!(!Role::ADMIN.is_owner());
    }

    #[test]
    fn hosts_add_roles_with_new_well_formed_names() {
        const BILLING: Role = Role::custom("billing", &[ViewOrganization, UpdateSettings]);
        let registry = RoleRegistry::new(&[BILLING]).expect("a new role");
        assert_eq!(registry.find("billing"), Some(BILLING));
        assert!(registry.find("billing").is_some_and(Role::administers));
        assert!(!BILLING.may(ManageMembers));
        assert_eq!(registry.find("owner"), Some(Role::OWNER));
        assert_eq!(registry.find("auditor"), None);
        for bad in [
            Role::custom("admin", &[]),
            Role::custom("Billing", &[]),
            Role::custom("bill-ing", &[]),
            Role::custom("", &[]),
        ] {
            assert!(RoleRegistry::new(&[bad]).is_err(), "{bad}");
        }
    }
}
