//! Backup policies (SPEC §3): periodic (the default) or continuous, and where copies are kept.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::AppError;

/// How many copies of backup storage there are and where (SPEC §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Redundancy {
    /// One store.
    Local,
    /// Two stores in the same region.
    Zone,
    /// A second store marked as another region.
    Geo,
}

/// Continuous backup retention tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ContinuousTier {
    Continuous7Days,
    Continuous30Days,
}

impl ContinuousTier {
    /// Days of history the tier keeps restorable.
    pub fn retention_days(self) -> u32 {
        match self {
            ContinuousTier::Continuous7Days => 7,
            ContinuousTier::Continuous30Days => 30,
        }
    }
}

/// A validated backup policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type")]
pub enum BackupPolicy {
    /// A full backup every `interval_hours`, kept `retention_hours`.
    Periodic { interval_hours: u32, retention_hours: u32, redundancy: Redundancy },
    /// The change log shipped continuously; restorable to any second in the tier's window.
    Continuous { tier: ContinuousTier, redundancy: Redundancy },
}

impl Default for BackupPolicy {
    /// Cosmos DB's default for a new account: periodic, every 4 h, kept 8 h, geo-redundant.
    fn default() -> Self {
        BackupPolicy::Periodic { interval_hours: 4, retention_hours: 8, redundancy: Redundancy::Geo }
    }
}

impl BackupPolicy {
    /// A periodic policy, checked against SPEC §3b.
    ///
    /// # Errors
    /// [`AppError::Invalid`] when the interval is outside 1–24 h, or the retention is below twice
    /// the interval or above 720 h; the message gives the numbers.
    pub fn periodic(interval_hours: u32, retention_hours: u32, redundancy: Redundancy) -> Result<Self, AppError> {
        if !(1..=24).contains(&interval_hours) {
            return Err(AppError::invalid(format!("backup interval must be between 1 and 24 hours (got {interval_hours})")));
        }
        if retention_hours < 2 * interval_hours {
            return Err(AppError::invalid(format!(
                "backup retention must be at least twice the interval: {} hours or more for a \
                 {interval_hours}-hour interval (got {retention_hours})",
                2 * interval_hours
            )));
        }
        if retention_hours > 720 {
            return Err(AppError::invalid(format!("backup retention must be at most 720 hours (30 days) (got {retention_hours})")));
        }
        Ok(BackupPolicy::Periodic { interval_hours, retention_hours, redundancy })
    }

    /// The storage redundancy of either mode.
    pub fn redundancy(&self) -> Redundancy {
        match self {
            BackupPolicy::Periodic { redundancy, .. } | BackupPolicy::Continuous { redundancy, .. } => *redundancy,
        }
    }

    /// The mode, with the tier of a continuous one.
    pub fn mode(&self) -> BackupMode {
        match self {
            BackupPolicy::Periodic { .. } => BackupMode::Periodic,
            BackupPolicy::Continuous { tier, .. } => BackupMode::Continuous(*tier),
        }
    }

    /// `Periodic` or `Continuous`, as Cosmos DB names the mode.
    pub fn mode_name(&self) -> &'static str {
        match self {
            BackupPolicy::Periodic { .. } => "Periodic",
            BackupPolicy::Continuous { .. } => "Continuous",
        }
    }

    /// One line for lists and overviews.
    pub fn summary(&self) -> String {
        match self {
            BackupPolicy::Periodic { interval_hours, retention_hours, redundancy } => format!(
                "Periodic: every {interval_hours} h, kept {retention_hours} h ({} copies), {redundancy} redundancy",
                (retention_hours / interval_hours).max(2)
            ),
            BackupPolicy::Continuous { tier, redundancy } => {
                format!("{tier} ({} days), {redundancy} redundancy", tier.retention_days())
            }
        }
    }
}

/// The policy as the accounts table stores it: its JSON in a text column, read back typed.
#[cfg(feature = "db")]
mod column {
    use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
    use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

    use super::BackupPolicy;

    impl From<BackupPolicy> for Value {
        fn from(policy: BackupPolicy) -> Self {
            // A policy is plain data: it always serialises.
            serde_json::to_string(&policy).unwrap_or_default().into()
        }
    }

    impl TryGetable for BackupPolicy {
        fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
            let text = String::try_get_by(res, idx)?;
            serde_json::from_str(&text).map_err(|e| TryGetError::DbErr(DbErr::Type(format!("a stored backup policy does not read: {e}"))))
        }
    }

    impl ValueType for BackupPolicy {
        fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
            let text = <String as ValueType>::try_from(v)?;
            serde_json::from_str(&text).map_err(|_| ValueTypeErr)
        }

        fn type_name() -> String {
            "BackupPolicy".to_owned()
        }

        fn array_type() -> ArrayType {
            ArrayType::String
        }

        fn column_type() -> ColumnType {
            ColumnType::Text
        }
    }

    impl Nullable for BackupPolicy {
        fn null() -> Value {
            Value::String(None)
        }
    }
}

/// A backup mode as forms, the REST API and the CLI name it: periodic, or continuous with its
/// tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupMode {
    Periodic,
    Continuous(ContinuousTier),
}

impl FromStr for BackupMode {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Periodic" => Ok(BackupMode::Periodic),
            other => other.parse().map(BackupMode::Continuous).map_err(|_| {
                AppError::invalid(format!("backup mode must be Periodic, Continuous7Days or Continuous30Days (got {other:?})"))
            }),
        }
    }
}

impl fmt::Display for BackupMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackupMode::Periodic => f.write_str("Periodic"),
            BackupMode::Continuous(tier) => fmt::Display::fmt(tier, f),
        }
    }
}

/// The backup policy as a form submits it: every field a string, checked by [`Self::validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPolicyInput {
    /// `Periodic`, `Continuous7Days` or `Continuous30Days`.
    pub mode: String,
    /// Hours between periodic backups (periodic only; default 4).
    #[serde(default)]
    pub interval_hours: Option<String>,
    /// Hours periodic backups are kept (periodic only; default 8).
    #[serde(default)]
    pub retention_hours: Option<String>,
    /// `Local`, `Zone` or `Geo` (default Geo).
    #[serde(default)]
    pub redundancy: Option<String>,
}

impl BackupPolicyInput {
    /// # Errors
    /// [`AppError::Invalid`] naming the field that is wrong.
    pub fn validate(&self) -> Result<BackupPolicy, AppError> {
        let redundancy = match non_empty(&self.redundancy) {
            None => Redundancy::Geo,
            Some(r) => r.parse()?,
        };
        let mode = match self.mode.trim() {
            "" => BackupMode::Periodic,
            m => m.parse()?,
        };
        match mode {
            BackupMode::Periodic => {
                let interval = hours("backup interval", &self.interval_hours, 4)?;
                let retention = hours("backup retention", &self.retention_hours, 8)?;
                BackupPolicy::periodic(interval, retention, redundancy)
            }
            BackupMode::Continuous(tier) => Ok(BackupPolicy::Continuous { tier, redundancy }),
        }
    }
}

/// A change to an account's backup policy: absent fields keep their current values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupPolicyChange {
    /// `Periodic`, `Continuous7Days` or `Continuous30Days`: a continuous account may change
    /// tier; a periodic account migrates to continuous backup (one-way, at once).
    #[serde(default)]
    pub mode: Option<String>,
    /// Periodic: hours between full backups (1–24).
    #[serde(default)]
    pub interval_hours: Option<u32>,
    /// Periodic: hours each backup is kept (twice the interval to 720).
    #[serde(default)]
    pub retention_hours: Option<u32>,
    /// `Local`, `Zone` or `Geo`: applies to backups taken from now on.
    #[serde(default)]
    pub redundancy: Option<String>,
}

impl BackupPolicy {
    /// The policy after `change` (SPEC §3): a periodic account's interval, retention and
    /// redundancy, or its migration to a continuous tier (one-way); a continuous account's tier
    /// and redundancy. Going from continuous back to periodic is refused, as Cosmos DB refuses it.
    ///
    /// # Errors
    /// [`AppError::Invalid`] naming the field or the rule.
    pub fn changed(self, change: &BackupPolicyChange) -> Result<BackupPolicy, AppError> {
        let redundancy = match non_empty(&change.redundancy) {
            None => self.redundancy(),
            Some(r) => r.parse()?,
        };
        let mode = non_empty(&change.mode).map(str::parse::<BackupMode>).transpose()?;
        match self {
            BackupPolicy::Periodic { interval_hours, retention_hours, .. } => match mode {
                None | Some(BackupMode::Periodic) => BackupPolicy::periodic(
                    change.interval_hours.unwrap_or(interval_hours),
                    change.retention_hours.unwrap_or(retention_hours),
                    redundancy,
                ),
                // A migration (one-way): the control plane carries it out.
                Some(BackupMode::Continuous(tier)) => {
                    if change.interval_hours.is_some() || change.retention_hours.is_some() {
                        return Err(AppError::invalid(format!(
                            "migrating to continuous backup ({tier}) takes no interval or retention: the tier's window replaces them"
                        )));
                    }
                    Ok(BackupPolicy::Continuous { tier, redundancy })
                }
            },
            BackupPolicy::Continuous { tier, .. } => {
                if change.interval_hours.is_some() || change.retention_hours.is_some() {
                    return Err(AppError::invalid(
                        "backup interval and retention apply to periodic backup only; a continuous account keeps its tier's window",
                    ));
                }
                let tier = match mode {
                    None => tier,
                    Some(BackupMode::Periodic) => {
                        return Err(AppError::invalid(
                            "an account with continuous backup cannot go back to periodic backup (the change is one-way)",
                        ));
                    }
                    Some(BackupMode::Continuous(tier)) => tier,
                };
                Ok(BackupPolicy::Continuous { tier, redundancy })
            }
        }
    }
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn hours(field: &str, value: &Option<String>, default: u32) -> Result<u32, AppError> {
    match non_empty(value) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| AppError::invalid(format!("{field} must be a whole number of hours (got {v:?})"))),
    }
}

impl FromStr for Redundancy {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Local" => Ok(Redundancy::Local),
            "Zone" => Ok(Redundancy::Zone),
            "Geo" => Ok(Redundancy::Geo),
            other => Err(AppError::invalid(format!("backup storage redundancy must be Local, Zone or Geo (got {other:?})"))),
        }
    }
}

impl FromStr for ContinuousTier {
    type Err = AppError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Continuous7Days" => Ok(ContinuousTier::Continuous7Days),
            "Continuous30Days" => Ok(ContinuousTier::Continuous30Days),
            other => Err(AppError::invalid(format!("continuous tier must be Continuous7Days or Continuous30Days (got {other:?})"))),
        }
    }
}

impl fmt::Display for Redundancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Redundancy::Local => "Local",
            Redundancy::Zone => "Zone",
            Redundancy::Geo => "Geo",
        })
    }
}

impl fmt::Display for ContinuousTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ContinuousTier::Continuous7Days => "Continuous7Days",
            ContinuousTier::Continuous30Days => "Continuous30Days",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(mode: &str, interval: &str, retention: &str) -> BackupPolicyInput {
        BackupPolicyInput {
            mode: mode.into(),
            interval_hours: Some(interval.into()),
            retention_hours: Some(retention.into()),
            redundancy: None,
        }
    }

    #[test]
    fn an_empty_form_gives_the_cosmos_default_policy() {
        let policy = BackupPolicyInput::default().validate().unwrap();
        assert_eq!(policy, BackupPolicy::default());
        assert_eq!(policy.redundancy(), Redundancy::Geo);
    }

    #[test]
    fn periodic_interval_must_be_one_to_twenty_four_hours() {
        assert!(input("Periodic", "0", "8").validate().is_err());
        let err = input("Periodic", "25", "720").validate().unwrap_err().to_string();
        assert!(err.contains("between 1 and 24") && err.contains("25"), "{err}");
    }

    #[test]
    fn periodic_retention_must_cover_two_intervals_and_at_most_thirty_days() {
        let err = input("Periodic", "6", "10").validate().unwrap_err().to_string();
        assert!(err.contains("12 hours or more"), "{err}");
        assert!(input("Periodic", "6", "12").validate().is_ok());
        assert!(input("Periodic", "24", "721").validate().is_err());
        assert!(input("Periodic", "24", "720").validate().is_ok());
    }

    #[test]
    fn continuous_tiers_are_accepted_and_unknown_modes_named() {
        let p = input("Continuous30Days", "", "").validate().unwrap();
        assert_eq!(p.mode_name(), "Continuous");
        let err = input("Hourly", "", "").validate().unwrap_err().to_string();
        assert!(err.contains("\"Hourly\""), "{err}");
    }

    #[test]
    fn non_numeric_hours_are_refused_with_the_field_name() {
        let err = input("Periodic", "four", "8").validate().unwrap_err().to_string();
        assert!(err.contains("backup interval") && err.contains("four"), "{err}");
    }

    #[test]
    fn unknown_redundancy_is_refused() {
        let mut i = input("Periodic", "4", "8");
        i.redundancy = Some("Galactic".into());
        assert!(i.validate().is_err());
    }

    #[test]
    fn policy_changes_keep_what_they_do_not_name_and_follow_the_rules() {
        let periodic = BackupPolicy::default();
        let change = |json: &str| serde_json::from_str::<BackupPolicyChange>(json).unwrap();
        assert_eq!(
            periodic.changed(&change(r#"{"intervalHours": 6, "retentionHours": 24}"#)).unwrap(),
            BackupPolicy::Periodic { interval_hours: 6, retention_hours: 24, redundancy: Redundancy::Geo }
        );
        assert_eq!(
            periodic.changed(&change(r#"{"redundancy": "Zone"}"#)).unwrap(),
            BackupPolicy::Periodic { interval_hours: 4, retention_hours: 8, redundancy: Redundancy::Zone }
        );
        // The retention must stay at least twice the interval: 8 h is too short for 6 h.
        let e = periodic.changed(&change(r#"{"intervalHours": 6}"#)).unwrap_err().to_string();
        assert!(e.contains("twice the interval"), "{e}");
        assert!(periodic.changed(&change(r#"{"intervalHours": 25}"#)).unwrap_err().to_string().contains("between 1 and 24"));
        assert!(periodic.changed(&change(r#"{"redundancy": "Moon"}"#)).unwrap_err().to_string().contains("Moon"));
        assert_eq!(
            periodic.changed(&change(r#"{"mode": "Continuous7Days"}"#)).unwrap(),
            BackupPolicy::Continuous { tier: ContinuousTier::Continuous7Days, redundancy: Redundancy::Geo }
        );
        let e = periodic.changed(&change(r#"{"mode": "Continuous30Days", "retentionHours": 48}"#)).unwrap_err().to_string();
        assert!(e.contains("takes no interval or retention"), "{e}");

        let continuous = BackupPolicy::Continuous { tier: ContinuousTier::Continuous30Days, redundancy: Redundancy::Local };
        assert_eq!(
            continuous.changed(&change(r#"{"mode": "Continuous7Days"}"#)).unwrap(),
            BackupPolicy::Continuous { tier: ContinuousTier::Continuous7Days, redundancy: Redundancy::Local }
        );
        let back = continuous.changed(&change(r#"{"mode": "Periodic"}"#)).unwrap_err().to_string();
        assert!(back.contains("cannot go back"), "{back}");
        assert!(continuous.changed(&change(r#"{"intervalHours": 2}"#)).unwrap_err().to_string().contains("periodic backup only"));
        assert!(serde_json::from_str::<BackupPolicyChange>(r#"{"tier": "x"}"#).is_err(), "unknown fields are refused");
    }
}
