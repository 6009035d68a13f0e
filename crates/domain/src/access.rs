//! Who may do what, where (DOMAIN.md §2): officers act inside the agencies they belong to, a
//! supervisor reads a whole subtree, an administrator manages catalog and users. Pure
//! decisions over role grants and an agency's ancestor chain; the web layer asks only here.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    ReceivingOfficer,
    Leader,
    Specialist,
    Approver,
    Clerk,
    ResultOfficer,
    DeskHead,
    Supervisor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::ReceivingOfficer,
        Role::Leader,
        Role::Specialist,
        Role::Approver,
        Role::Clerk,
        Role::ResultOfficer,
        Role::DeskHead,
        Role::Supervisor,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::ReceivingOfficer => "receiving_officer",
            Role::Leader => "leader",
            Role::Specialist => "specialist",
            Role::Approver => "approver",
            Role::Clerk => "clerk",
            Role::ResultOfficer => "result_officer",
            Role::DeskHead => "desk_head",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Role::ReceivingOfficer => "Công chức tiếp nhận",
            Role::Leader => "Lãnh đạo phòng (phân công)",
            Role::Specialist => "Chuyên viên thụ lý",
            Role::Approver => "Lãnh đạo ký duyệt",
            Role::Clerk => "Văn thư",
            Role::ResultOfficer => "Công chức trả kết quả",
            Role::DeskHead => "Trưởng bộ phận một cửa",
            Role::Supervisor => "Giám sát (chỉ xem)",
            Role::Admin => "Quản trị hệ thống",
        }
    }

    /// Roles that handle dossiers inside their own agency.
    pub fn is_officer(self) -> bool {
        !matches!(self, Role::Supervisor | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            format!(
                "unknown role {s:?}: expected one of {}",
                Role::ALL.map(|r| r.as_str()).join(", ")
            )
        })
    }
}

crate::try_from_text!(Role);

crate::stored_text! {
    /// What a bearer token was issued for.
    TokenKind, "token kind" {
        /// Signing in through the API: short-lived.
        Login = "login",
        /// A machine client's long-lived token.
        Api = "api",
    }
}

/// A role held in one agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub agency_id: i64,
    pub role: Role,
}

/// The decisions, for one user.
#[derive(Debug, Clone, Default)]
pub struct Access {
    grants: Vec<Grant>,
}

impl Access {
    pub fn new(grants: Vec<Grant>) -> Self {
        Self { grants }
    }

    pub fn is_admin(&self) -> bool {
        self.grants.iter().any(|g| g.role == Role::Admin)
    }

    /// Catalog (agencies, procedures) and users are the administrator's.
    pub fn may_manage_catalog(&self) -> bool {
        self.is_admin()
    }

    pub fn may_manage_users(&self) -> bool {
        self.is_admin()
    }

    /// Reading an agency's data: its own members (any role), a supervisor of the agency or
    /// of an ancestor, an administrator. `chain` is the agency followed by its ancestors.
    pub fn may_read(&self, chain: &[i64]) -> bool {
        let Some(&target) = chain.first() else {
            return false;
        };
        self.is_admin()
            || self.grants.iter().any(|g| {
                (g.role.is_officer() && g.agency_id == target)
                    || (g.role == Role::Supervisor && chain.contains(&g.agency_id))
            })
    }

    /// Acting in an agency with a role: only an officer holding that role in that very agency.
    /// Supervisors and administrators never act on dossiers.
    pub fn may_act(&self, agency_id: i64, role: Role) -> bool {
        role.is_officer()
            && self
                .grants
                .iter()
                .any(|g| g.agency_id == agency_id && g.role == role)
    }

    /// Agencies where the user holds any officer role.
    pub fn officer_agencies(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .grants
            .iter()
            .filter(|g| g.role.is_officer())
            .map(|g| g.agency_id)
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVINCE: i64 = 1;
    const JUSTICE: i64 = 2;
    const UNIT: i64 = 3;
    const COMMUNE: i64 = 4;

    fn user(grants: &[(i64, Role)]) -> Access {
        Access::new(
            grants
                .iter()
                .map(|&(agency_id, role)| Grant { agency_id, role })
                .collect(),
        )
    }

    #[test]
    fn officers_read_and_act_only_in_their_agency() {
        let u = user(&[(JUSTICE, Role::Specialist)]);
        assert!(u.may_read(&[JUSTICE, PROVINCE]));
        assert!(
            !u.may_read(&[UNIT, JUSTICE, PROVINCE]),
            "not even in a child unit"
        );
        assert!(!u.may_read(&[COMMUNE, PROVINCE]));
        assert!(u.may_act(JUSTICE, Role::Specialist));
        assert!(!u.may_act(JUSTICE, Role::Approver), "only with the role held");
        assert!(!u.may_act(COMMUNE, Role::Specialist));
        assert!(!u.may_manage_catalog());
    }

    #[test]
    fn supervisors_read_a_subtree_and_never_act() {
        let u = user(&[(JUSTICE, Role::Supervisor)]);
        assert!(u.may_read(&[JUSTICE, PROVINCE]));
        assert!(u.may_read(&[UNIT, JUSTICE, PROVINCE]));
        assert!(!u.may_read(&[PROVINCE]));
        assert!(!u.may_read(&[COMMUNE, PROVINCE]));
        assert!(!u.may_act(JUSTICE, Role::Supervisor));
        assert!(!u.may_act(UNIT, Role::Specialist));
    }

    #[test]
    fn administrators_manage_but_do_not_process() {
        let u = user(&[(PROVINCE, Role::Admin)]);
        assert!(u.may_manage_catalog() && u.may_manage_users());
        assert!(u.may_read(&[COMMUNE, PROVINCE]));
        assert!(!u.may_act(PROVINCE, Role::Admin));
        assert!(!u.may_act(COMMUNE, Role::ReceivingOfficer));
    }

    #[test]
    fn nobody_reads_without_grants() {
        assert!(!user(&[]).may_read(&[JUSTICE]));
        assert!(!user(&[(JUSTICE, Role::Leader)]).may_read(&[]));
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("citizen".parse::<Role>().is_err());
    }
}
