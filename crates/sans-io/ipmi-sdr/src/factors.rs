//! Linear sensor conversion (IPMI v2.0 §36.3): [`LinearFactors`], the M, B
//! and exponents of a Full Sensor Record, and the search for the finest
//! factors that cover a value range.

use crate::SdrError;

/// Linear conversion factors of a Full Sensor Record (IPMI v2.0 §36.3):
/// `y = (M*x + B*10^Bexp) * 10^Rexp`, where `x` is the raw reading.
///
/// They are stored in Table 43-1 bytes 25-30 (1-based, as the spec counts):
///
/// ```text
///        7   6   5   4   3   2   1   0
///      +-------------------------------+
///  25  |            M [7:0]            |
///      +-------+-----------------------+
///  26  |M [9:8]|    tolerance [5:0]    |
///      +-------------------------------+
///  27  |            B [7:0]            |
///      +-------+-----------------------+
///  28  |B [9:8]|    accuracy [5:0]     |
///      +---------------+-------+-------+
///  29  | accuracy [9:6]|acc exp|  dir  |
///      +---------------+-------+-------+
///  30  |     R exp     |     B exp     |
///      +---------------+---------------+
/// ```
///
/// M and B are 10-bit and the exponents 4-bit 2's complement numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearFactors {
    /// Multiplier M, 10-bit signed (-512..=511).
    pub m: i16,
    /// Offset B, 10-bit signed (-512..=511).
    pub b: i16,
    /// B exponent, 4-bit signed (-8..=7).
    pub b_exp: i8,
    /// Result exponent, 4-bit signed (-8..=7).
    pub r_exp: i8,
    /// The raw reading is 2's complement (analog data format 10b, Table 43-1
    /// byte 21 bits 7:6); otherwise it is unsigned (00b).
    pub signed: bool,
}

impl LinearFactors {
    /// Factors from their fields, checking each fits its bit width.
    pub fn new(m: i16, b: i16, b_exp: i8, r_exp: i8, signed: bool) -> Result<Self, SdrError> {
        let ten_bits = -512..=511;
        let four_bits = -8..=7;
        if ten_bits.contains(&m)
            && ten_bits.contains(&b)
            && four_bits.contains(&b_exp)
            && four_bits.contains(&r_exp)
        {
            Ok(Self {
                m,
                b,
                b_exp,
                r_exp,
                signed,
            })
        } else {
            Err(SdrError::FactorOutOfRange)
        }
    }

    /// Best resolution (smallest step) 8-bit encoding covering `[min, max]`.
    ///
    /// The raw reading is unsigned (0..=255) when `min >= 0`, otherwise 2's
    /// complement (-128..=127). M is kept in 1..=511; among equal steps the
    /// smallest M wins, and B is the representable offset nearest zero.
    /// Coverage holds to within `1e-9 * (max - min)` of floating-point slack.
    pub fn for_range(min: f64, max: f64) -> Result<Self, SdrError> {
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(SdrError::InvalidRange { min, max });
        }
        let span = max - min;
        if !span.is_finite() {
            return Err(SdrError::Unrepresentable { min, max });
        }
        let signed = min < 0.0;
        let (lo, hi) = raw_bounds(signed);
        let mut best: Option<Self> = None;
        // Large exponents first, so that of two equal steps (M=1, R=0 and
        // M=10, R=-1) the smaller M is found first and kept.
        for r_exp in (-8..=7).rev() {
            for m in 1..=511 {
                let step = scale(f64::from(m), i32::from(r_exp));
                if step * f64::from(hi - lo) < span * (1.0 - COVER_SLACK) {
                    continue;
                }
                if best.is_some_and(|b| step >= b.resolution() * (1.0 - 1e-12)) {
                    break;
                }
                if let Some(found) = Self::with_offset(m, r_exp, signed, min, max) {
                    best = Some(found);
                    break;
                }
            }
        }
        best.ok_or(SdrError::Unrepresentable { min, max })
    }

    /// The physical value of a raw reading.
    pub fn to_value(&self, raw: u8) -> f64 {
        let x = if self.signed {
            f64::from(i8::from_ne_bytes([raw]))
        } else {
            f64::from(raw)
        };
        let offset = scale(f64::from(self.b), i32::from(self.b_exp));
        scale(f64::from(self.m) * x + offset, i32::from(self.r_exp))
    }

    /// Nearest raw value, clamped to the raw range. NaN maps to the lowest
    /// raw value (0 unsigned, -128 signed).
    pub fn to_raw(&self, value: f64) -> u8 {
        let (lo, hi) = raw_bounds(self.signed);
        let offset = scale(f64::from(self.b), i32::from(self.b_exp));
        let x = (scale(value, -i32::from(self.r_exp)) - offset) / f64::from(self.m);
        let x = if x.is_nan() {
            f64::from(lo)
        } else {
            x.round().clamp(f64::from(lo), f64::from(hi))
        };
        // The low byte of an i16 in -128..=127 is its i8 encoding, and in
        // 0..=255 its u8 encoding.
        f64_to_i16(x).to_le_bytes()[0]
    }

    /// Value difference of one raw step: `|M| * 10^Rexp`.
    pub fn resolution(&self) -> f64 {
        scale(f64::from(self.m.unsigned_abs()), i32::from(self.r_exp))
    }

    /// Finds B and B exp that put `[min, max]` inside the raw range for this
    /// M and R exp, or `None`.
    fn with_offset(m: i16, r_exp: i8, signed: bool, min: f64, max: f64) -> Option<Self> {
        let (lo, hi) = raw_bounds(signed);
        let step = scale(f64::from(m), i32::from(r_exp));
        // The offset O = B * 10^(Bexp+Rexp) must give O + lo*step <= min and
        // O + hi*step >= max.
        let (o_lo, o_hi) = (max - f64::from(hi) * step, min - f64::from(lo) * step);
        // Coarsest offset unit first: fewest significant digits in B.
        for b_exp in (-8..=7).rev() {
            let unit = scale(1.0, i32::from(b_exp) + i32::from(r_exp));
            let b_lo = (o_lo / unit).ceil().max(-512.0);
            let b_hi = (o_hi / unit).floor().min(511.0);
            if b_lo > b_hi {
                continue;
            }
            let b = f64_to_i16(0.0_f64.clamp(b_lo, b_hi));
            let b_exp = if b == 0 { 0 } else { b_exp };
            let found = Self {
                m,
                b,
                b_exp,
                r_exp,
                signed,
            };
            if found.covers(min, max) {
                return Some(found);
            }
        }
        None
    }

    /// Whether the raw range reaches `min` and `max`, up to float slack.
    fn covers(&self, min: f64, max: f64) -> bool {
        let slack = (max - min) * COVER_SLACK;
        let (lo, hi) = raw_bounds(self.signed);
        let [lo, hi] = [lo, hi].map(|x| x.to_le_bytes()[0]);
        self.to_value(lo) <= min + slack && self.to_value(hi) >= max - slack
    }
}

/// Relative floating-point slack allowed when checking range coverage.
pub(crate) const COVER_SLACK: f64 = 1e-9;

/// Raw reading bounds: 2's complement or unsigned 8-bit.
fn raw_bounds(signed: bool) -> (i16, i16) {
    if signed {
        (-128, 127)
    } else {
        (0, 255)
    }
}

/// `v * 10^e`, dividing for negative `e` so that exact decimals stay exact.
pub(crate) fn scale(v: f64, e: i32) -> f64 {
    if e >= 0 {
        v * 10_f64.powi(e)
    } else {
        v / 10_f64.powi(-e)
    }
}

/// Converts an integral, range-checked float. `as` saturates, so even a
/// wrong caller cannot cause undefined values, only a clamped one.
#[allow(
    clippy::cast_possible_truncation,
    reason = "callers round and clamp into the i16 range first"
)]
pub(crate) fn f64_to_i16(x: f64) -> i16 {
    x as i16
}
