//! DCMI power management (DCMI v1.5 §6.6): the statistics kept of the
//! system's power draw, and the power limit with its exception action.
//!
//! The owner feeds [`PowerStatistics::record`] each reading of the
//! configured power sensor and asks [`LimitMonitor::observe`] after each
//! whether the limit's exception action is due; the commands read and
//! change [`LimitSettings`], which the owner stores durably before it
//! answers a Set.

use std::{collections::VecDeque, time::Duration};

use ipmi_wire::CompletionCode;

use crate::wire::{
    body, reply, CC_CORRECTION_TIME_OUT_OF_RANGE, CC_LIMIT_OUT_OF_RANGE, CC_NO_ACTIVE_LIMIT,
    CC_SAMPLING_PERIOD_OUT_OF_RANGE,
};

/// The rolling-average periods offered (Get DCMI Capabilities parameter 5,
/// Get Power Reading mode 2), as period bytes: bits 7:6 the unit
/// (seconds, minutes, hours, days), bits 5:0 how many. These are the ones
/// ipmitool names: 5, 15 and 30 s; 1, 3, 7, 15 and 30 min; 1 h.
pub const PERIODS: [u8; 9] = [0x05, 0x0F, 0x1E, 0x41, 0x43, 0x47, 0x4F, 0x5E, 0x81];

/// How long readings are kept: the longest period offered.
pub const KEPT: Duration = Duration::from_secs(3600);

/// The span a period byte names.
pub fn period_span(code: u8) -> Duration {
    let unit = match code >> 6 {
        0 => 1,
        1 => 60,
        2 => 3600,
        _ => 86_400,
    };
    Duration::from_secs(u64::from(code & 0x3F) * unit)
}

/// The readings of the last [`KEPT`], at the times they were taken.
#[derive(Clone, Debug, Default)]
pub struct PowerStatistics {
    samples: VecDeque<(Duration, u16)>,
}

/// Current, minimum, maximum and average power over a span, in watts.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Summary {
    /// The latest reading.
    pub current: u16,
    /// The least in the span.
    pub minimum: u16,
    /// The most in the span.
    pub maximum: u16,
    /// The mean of the span's readings.
    pub average: u16,
    /// From the first reading in the span to now.
    pub span: Duration,
}

impl PowerStatistics {
    /// Keeps a reading of `watts` taken at `now` (whole watts, 0-65535).
    pub fn record(&mut self, now: Duration, watts: f64) {
        let watts = if watts.is_finite() {
            // Clamped to the field's range first: the cast cannot overflow.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let whole = watts.round().clamp(0.0, f64::from(u16::MAX)) as u16;
            whole
        } else {
            return;
        };
        while self
            .samples
            .front()
            .is_some_and(|(at, _)| now.saturating_sub(*at) > KEPT)
        {
            self.samples.pop_front();
        }
        self.samples.push_back((now, watts));
    }

    /// Forgets every reading (the sensor was lost: what is kept no longer
    /// describes the present).
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// The readings of the last `within` (all kept with `None`) as of
    /// `now`; `None` without any.
    pub fn summary(&self, now: Duration, within: Option<Duration>) -> Option<Summary> {
        let since = within.map_or(Duration::ZERO, |w| now.saturating_sub(w));
        let mut in_span = self.samples.iter().filter(|(at, _)| *at >= since);
        let &(first_at, first) = in_span.next()?;
        let (mut minimum, mut maximum, mut total, mut count) = (first, first, u64::from(first), 1);
        for &(_, watts) in in_span {
            minimum = minimum.min(watts);
            maximum = maximum.max(watts);
            total += u64::from(watts);
            count += 1;
        }
        let &(_, current) = self.samples.back()?;
        Some(Summary {
            current,
            minimum,
            maximum,
            average: u16::try_from(total / count).unwrap_or(u16::MAX),
            span: now.saturating_sub(first_at),
        })
    }
}

/// Get Power Reading: mode 01h, the statistics of every reading kept
/// (their period in milliseconds); mode 02h, of one offered rolling period
/// (the period byte in the period field, as DCMI's "in units" and
/// ipmitool read it). `timestamp` is the IPMI time of the reply. Without
/// readings the power measurement state says so (bit 6 clear).
pub fn get_power_reading(
    statistics: &PowerStatistics,
    data: &[u8],
    now: Duration,
    timestamp: u32,
) -> Result<Vec<u8>, CompletionCode> {
    let request = body(data, 3)?;
    let (mode, attribute, reserved) = (request[0], request[1], request[2]);
    if reserved != 0 {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    let (summary, period_field) = match mode {
        0x01 if attribute == 0 => {
            let summary = statistics.summary(now, None);
            let millis =
                summary.map_or(0, |s| u32::try_from(s.span.as_millis()).unwrap_or(u32::MAX));
            (summary, millis)
        }
        0x02 if PERIODS.contains(&attribute) => (
            statistics.summary(now, Some(period_span(attribute))),
            u32::from(attribute),
        ),
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    };
    let summary = summary.unwrap_or(Summary {
        current: 0,
        minimum: 0,
        maximum: 0,
        average: 0,
        span: Duration::ZERO,
    });
    let mut fields = Vec::with_capacity(17);
    for watts in [
        summary.current,
        summary.minimum,
        summary.maximum,
        summary.average,
    ] {
        fields.extend_from_slice(&watts.to_le_bytes());
    }
    fields.extend_from_slice(&timestamp.to_le_bytes());
    fields.extend_from_slice(&period_field.to_le_bytes());
    let measuring = !statistics.samples.is_empty();
    fields.push(if measuring { 0x40 } else { 0x00 });
    Ok(reply(&fields))
}

/// What happens when the limit is exceeded for longer than the correction
/// time (DCMI's exception actions this BMC carries out).
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum ExceptionAction {
    /// Nothing.
    #[default]
    None,
    /// Hard power off the system, and log it to the SEL.
    HardPowerOff,
    /// Log it to the SEL only.
    LogOnly,
}

impl ExceptionAction {
    /// The action's byte.
    pub fn code(self) -> u8 {
        match self {
            Self::None => 0x00,
            Self::HardPowerOff => 0x01,
            Self::LogOnly => 0x11,
        }
    }

    /// The action a byte names; the OEM actions (02h-10h) are not carried
    /// out here, so they are refused like reserved ones.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0x00 => Some(Self::None),
            0x01 => Some(Self::HardPowerOff),
            0x11 => Some(Self::LogOnly),
            _ => None,
        }
    }
}

/// The power limit as set, and whether it is active.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct LimitSettings {
    /// What to do when it is exceeded.
    pub action: ExceptionAction,
    /// The limit, watts.
    pub limit_watts: u16,
    /// How long the draw may exceed it before the action, milliseconds.
    pub correction_ms: u32,
    /// The management application's statistics sampling period, seconds.
    pub sampling_secs: u16,
    /// Whether the limit is enforced.
    pub active: bool,
}

/// What a Set Power Limit may ask.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct LimitRanges {
    /// The least limit, watts.
    pub min_watts: u16,
    /// The most limit, watts (the power sensor's range).
    pub max_watts: u16,
    /// The least correction time.
    pub min_correction: Duration,
    /// The most correction time.
    pub max_correction: Duration,
    /// The longest statistics sampling period, seconds.
    pub max_sampling_secs: u16,
}

impl LimitRanges {
    /// Ranges for a power sensor reading up to `max_watts`: a limit of 1 W
    /// up to it, a correction time of 1 s to 10 min (the owner reads the
    /// sensor each second, so less cannot be honoured), a sampling period
    /// of 1 s to the hour of readings kept.
    pub fn for_sensor(max_watts: u16) -> Self {
        Self {
            min_watts: 1,
            max_watts,
            min_correction: Duration::from_secs(1),
            max_correction: Duration::from_secs(600),
            max_sampling_secs: 3600,
        }
    }
}

/// Get Power Limit: the settings, with 80h ("no active set power limit")
/// while the limit is not active. The reply's fields come either way, as
/// ipmitool and FreeIPMI read them from an 80h reply too.
pub fn get_power_limit(
    settings: &LimitSettings,
    data: &[u8],
) -> Result<(CompletionCode, Vec<u8>), CompletionCode> {
    let request = body(data, 2)?;
    if request != [0, 0] {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    let mut fields = vec![0, 0, settings.action.code()];
    fields.extend_from_slice(&settings.limit_watts.to_le_bytes());
    fields.extend_from_slice(&settings.correction_ms.to_le_bytes());
    fields.extend_from_slice(&[0, 0]);
    fields.extend_from_slice(&settings.sampling_secs.to_le_bytes());
    let code = if settings.active {
        CompletionCode::SUCCESS
    } else {
        CC_NO_ACTIVE_LIMIT
    };
    Ok((code, reply(&fields)))
}

/// Set Power Limit: the settings it asks for (still as active or not as
/// before), once every field is in range; the owner stores them, then
/// answers with [`reply`]`(&[])`.
pub fn set_power_limit(
    settings: &LimitSettings,
    ranges: &LimitRanges,
    data: &[u8],
) -> Result<LimitSettings, CompletionCode> {
    let request = body(data, 14)?;
    if request[0..3] != [0, 0, 0] || request[10..12] != [0, 0] {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    let action =
        ExceptionAction::from_code(request[3]).ok_or(CompletionCode::INVALID_DATA_FIELD)?;
    let limit_watts = u16::from_le_bytes([request[4], request[5]]);
    let correction_ms = u32::from_le_bytes([request[6], request[7], request[8], request[9]]);
    let sampling_secs = u16::from_le_bytes([request[12], request[13]]);
    if !(ranges.min_watts..=ranges.max_watts).contains(&limit_watts) {
        return Err(CC_LIMIT_OUT_OF_RANGE);
    }
    let correction = Duration::from_millis(u64::from(correction_ms));
    if !(ranges.min_correction..=ranges.max_correction).contains(&correction) {
        return Err(CC_CORRECTION_TIME_OUT_OF_RANGE);
    }
    if !(1..=ranges.max_sampling_secs).contains(&sampling_secs) {
        return Err(CC_SAMPLING_PERIOD_OUT_OF_RANGE);
    }
    Ok(LimitSettings {
        action,
        limit_watts,
        correction_ms,
        sampling_secs,
        active: settings.active,
    })
}

/// Activate/Deactivate Power Limit: the settings with the limit on or
/// off. A limit never set cannot be activated (D5h: there is nothing to
/// enforce).
pub fn activate_power_limit(
    settings: &LimitSettings,
    data: &[u8],
) -> Result<LimitSettings, CompletionCode> {
    let request = body(data, 3)?;
    if request[1..] != [0, 0] {
        return Err(CompletionCode::INVALID_DATA_FIELD);
    }
    let active = match request[0] {
        0 => false,
        1 => true,
        _ => return Err(CompletionCode::INVALID_DATA_FIELD),
    };
    if active && settings.limit_watts == 0 {
        return Err(CompletionCode::NOT_SUPPORTED_IN_PRESENT_STATE);
    }
    Ok(LimitSettings {
        active,
        ..*settings
    })
}

/// The exception the limit raised: the draw exceeded it for the
/// correction time.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Exception {
    /// What to do.
    pub action: ExceptionAction,
    /// The reading that found it, watts.
    pub watts: u16,
    /// The limit, watts.
    pub limit_watts: u16,
}

/// Watches the draw against the limit: the exception is due once the
/// draw has been above the limit without a break for the correction time,
/// and once only until the draw falls back under it.
#[derive(Clone, Debug, Default)]
pub struct LimitMonitor {
    over_since: Option<Duration>,
    raised: bool,
}

impl LimitMonitor {
    /// Looks at a reading of `watts` at `now` while the host's power is
    /// `host_on`; the exception, the first time it is due.
    pub fn observe(
        &mut self,
        settings: &LimitSettings,
        now: Duration,
        watts: f64,
        host_on: bool,
    ) -> Option<Exception> {
        let over = settings.active && host_on && watts > f64::from(settings.limit_watts);
        if !over {
            self.over_since = None;
            self.raised = false;
            return None;
        }
        let since = *self.over_since.get_or_insert(now);
        let correction = Duration::from_millis(u64::from(settings.correction_ms));
        if self.raised || now.saturating_sub(since) < correction {
            return None;
        }
        self.raised = true;
        // The reading is above a u16 limit: clamped, it still is.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let watts = watts.round().clamp(0.0, f64::from(u16::MAX)) as u16;
        Some(Exception {
            action: settings.action,
            watts,
            limit_watts: settings.limit_watts,
        })
    }
}

#[cfg(test)]
mod tests;
