//! `[fru]`: the BMC's built-in FRU inventory device (FRU ID 0), served by
//! rbmc-sensord. The config gives the initial contents; once written with
//! Write FRU Data the stored copy in the state directory wins.

use serde::Deserialize;

/// `[fru]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Fru {
    /// The chassis info area.
    pub chassis: Option<FruChassis>,
    /// The board info area.
    pub board: Option<FruBoard>,
    /// The product info area.
    pub product: Option<FruProduct>,
}

/// `[fru.chassis]` (FRU spec §10).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FruChassis {
    /// SMBIOS chassis type (e.g. 17h, rack mount chassis).
    pub chassis_type: u8,
    /// Part number.
    #[serde(default)]
    pub part_number: String,
    /// Serial number.
    #[serde(default)]
    pub serial_number: String,
}

/// `[fru.board]` (FRU spec §11).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FruBoard {
    /// Manufacturing date and time, "YYYY-MM-DD HH:MM" UTC, 1996 or later.
    pub mfg_date: FruDate,
    /// Manufacturer.
    #[serde(default)]
    pub manufacturer: String,
    /// Product name.
    #[serde(default)]
    pub product_name: String,
    /// Serial number.
    #[serde(default)]
    pub serial_number: String,
    /// Part number.
    #[serde(default)]
    pub part_number: String,
}

/// `[fru.product]` (FRU spec §12).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FruProduct {
    /// Manufacturer.
    #[serde(default)]
    pub manufacturer: String,
    /// Product name.
    #[serde(default)]
    pub product_name: String,
    /// Part or model number.
    #[serde(default)]
    pub part_number: String,
    /// Version.
    #[serde(default)]
    pub version: String,
    /// Serial number.
    #[serde(default)]
    pub serial_number: String,
    /// Asset tag.
    #[serde(default)]
    pub asset_tag: String,
}

/// A FRU date: minutes since 1996-01-01 00:00 UTC (FRU spec §11, 24 bits).
#[derive(Clone, Copy, Debug, Deserialize, Eq, PartialEq)]
#[serde(try_from = "String")]
pub struct FruDate(pub u32);

impl TryFrom<String> for FruDate {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let bad = || format!("date {text:?} is not \"YYYY-MM-DD HH:MM\" between 1996 and 2027");
        let (date, time) = text.split_once(' ').ok_or_else(bad)?;
        let mut d = date.split('-').map(|p| p.parse::<i64>());
        let (Some(Ok(y)), Some(Ok(m)), Some(Ok(day)), None) =
            (d.next(), d.next(), d.next(), d.next())
        else {
            return Err(bad());
        };
        let (h, min) = time.split_once(':').ok_or_else(bad)?;
        let (h, min): (i64, i64) = (
            h.parse().map_err(|_| bad())?,
            min.parse().map_err(|_| bad())?,
        );
        if !(1..=12).contains(&m)
            || !(1..=31).contains(&day)
            || h > 23
            || min > 59
            || h < 0
            || min < 0
        {
            return Err(bad());
        }
        let minutes =
            (days_from_civil(y, m, day) - days_from_civil(1996, 1, 1)) * 1440 + h * 60 + min;
        // 24 bits of minutes reach into 2027.
        u32::try_from(minutes)
            .ok()
            .filter(|m| *m < 1 << 24)
            .map(Self)
            .ok_or_else(bad)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fru_dates_count_minutes_from_1996() {
        assert_eq!(
            FruDate::try_from("1996-01-01 00:00".to_owned()),
            Ok(FruDate(0))
        );
        assert_eq!(
            FruDate::try_from("1996-01-02 00:01".to_owned()),
            Ok(FruDate(1441))
        );
        // 1996 is a leap year: March 1 is day 60.
        assert_eq!(
            FruDate::try_from("1996-03-01 00:00".to_owned()),
            Ok(FruDate(60 * 1440))
        );
        assert!(FruDate::try_from("1995-12-31 23:59".to_owned()).is_err());
        assert!(FruDate::try_from("2026-13-01 00:00".to_owned()).is_err());
        assert!(FruDate::try_from("2030-01-01 00:00".to_owned()).is_err());
    }
}
