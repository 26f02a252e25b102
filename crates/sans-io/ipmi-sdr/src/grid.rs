//! Factors on which the configured values are exact: the coarsest-but-one
//! question of a BMC's SDR. [`LinearFactors::for_range`] alone gives the
//! finest step over a range (0..127 °C in 255 steps: M = 0.499), and a
//! configured threshold of 85 °C then reads back as 84.83. Here the step is
//! the finest one on whose grid every named value lies: thresholds as
//! absolute values, hysteresis as a multiple of the step. For 0..127 °C
//! with thresholds 85/95/105 and hysteresis 2 that is 0.5 (M = 5,
//! R exp = -1), so each reads back as configured, and so does any value a
//! client sets on the same grid.

use crate::{
    factors::{f64_to_i16, scale, COVER_SLACK},
    LinearFactors, SdrError,
};

/// How close two values must be to count as equal, relative to the
/// range's span (decimal values in binary floating point).
const SAME: f64 = 1e-9;

/// Whether `x` is a whole number of `step`s, to within `tolerance`.
fn multiple_of(x: f64, step: f64, tolerance: f64) -> bool {
    (x - (x / step).round() * step).abs() <= tolerance
}

impl LinearFactors {
    /// The finest factors covering `[min, max]` on whose grid every value
    /// of `exact` lies (the raw reading `x` with `y(x) = v`) and every
    /// value of `exact_steps` is a whole number of steps. With both empty,
    /// [`LinearFactors::for_range`]. `resolution`, when given, is the only
    /// step tried.
    pub fn for_values(
        min: f64,
        max: f64,
        exact: &[f64],
        exact_steps: &[f64],
        resolution: Option<f64>,
    ) -> Result<Self, SdrError> {
        if exact.is_empty() && exact_steps.is_empty() && resolution.is_none() {
            return Self::for_range(min, max);
        }
        if !(min.is_finite() && max.is_finite() && min < max) {
            return Err(SdrError::InvalidRange { min, max });
        }
        let signed = min < 0.0;
        let tolerance = (max - min) * SAME;
        let (lo, hi) = if signed { (-128i16, 127i16) } else { (0, 255) };
        let finest = (max - min) / f64::from(hi - lo) * (1.0 - COVER_SLACK);
        let mut steps: Vec<(f64, i16, i8)> = (-8i8..=7)
            .flat_map(|r_exp| {
                (1i16..=511).map(move |m| (scale(f64::from(m), i32::from(r_exp)), m, r_exp))
            })
            .filter(|(step, _, _)| *step >= finest)
            .filter(|(step, _, _)| resolution.is_none_or(|r| (step - r).abs() <= r * SAME))
            .collect();
        steps.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (step, m, r_exp) in steps {
            if !exact_steps.iter().all(|h| multiple_of(*h, step, tolerance)) {
                continue;
            }
            let found = match exact.first() {
                None => Self::with_offset_for(m, r_exp, signed, min, max),
                Some(&first) => {
                    if !exact
                        .iter()
                        .all(|v| multiple_of(v - first, step, tolerance))
                    {
                        continue;
                    }
                    Self::with_offset_through(first, step, m, r_exp, signed, min, max)
                }
            };
            // The proof: every value reads back as itself.
            if let Some(found) = found.filter(|f| {
                exact
                    .iter()
                    .all(|v| (f.to_value(f.to_raw(*v)) - v).abs() <= tolerance)
            }) {
                return Ok(found);
            }
        }
        Err(SdrError::NotExact { min, max })
    }

    fn with_offset_for(m: i16, r_exp: i8, signed: bool, min: f64, max: f64) -> Option<Self> {
        // No absolute value to keep exact: the offset search of
        // `for_range`, through its public entry, restricted to this step.
        let plain = Self::for_range(min, max).ok()?;
        if plain.m == m && plain.r_exp == r_exp {
            return Some(plain);
        }
        Self::with_offset_through(
            0.0,
            scale(f64::from(m), i32::from(r_exp)),
            m,
            r_exp,
            signed,
            min,
            max,
        )
        .or_else(|| {
            // Any offset: the range's lower end rounded down to the step.
            let step = scale(f64::from(m), i32::from(r_exp));
            Self::with_offset_through(
                (min / step).floor() * step,
                step,
                m,
                r_exp,
                signed,
                min,
                max,
            )
        })
    }

    /// Factors with step `m * 10^r_exp` whose grid passes through
    /// `through`, covering `[min, max]`, with B representable; the offset
    /// nearest zero wins.
    fn with_offset_through(
        through: f64,
        step: f64,
        m: i16,
        r_exp: i8,
        signed: bool,
        min: f64,
        max: f64,
    ) -> Option<Self> {
        let (lo, hi) = if signed {
            (-128.0, 127.0)
        } else {
            (0.0, 255.0)
        };
        let slack = (max - min) * COVER_SLACK;
        // offset = through - k * step, with offset + lo*step <= min and
        // offset + hi*step >= max.
        let k_lo = ((through - min - slack) / step + lo).ceil();
        let k_hi = ((through - max + slack) / step + hi).floor();
        if k_lo > k_hi {
            return None;
        }
        let k_zero = (through / step).round().clamp(k_lo, k_hi);
        // At most a few hundred: the raw range is 256 steps.
        let mut ks = Vec::new();
        let mut k = k_lo;
        while k <= k_hi {
            ks.push(k);
            k += 1.0;
        }
        ks.sort_by(|a, b| (a - k_zero).abs().total_cmp(&(b - k_zero).abs()));
        for k in ks {
            let offset = through - k * step;
            for b_exp in (-8i8..=7).rev() {
                let unit = scale(1.0, i32::from(b_exp) + i32::from(r_exp));
                let b = (offset / unit).round();
                if b.abs() > 511.0 || (b * unit - offset).abs() > (max - min) * SAME {
                    continue;
                }
                let b = f64_to_i16(b);
                return Some(Self {
                    m,
                    b,
                    b_exp: if b == 0 { 0 } else { b_exp },
                    r_exp,
                    signed,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads_back(f: &LinearFactors, v: f64) -> bool {
        (f.to_value(f.to_raw(v)) - v).abs() < 1e-9
    }

    #[test]
    fn configured_values_read_back_exactly() {
        // CPU temperature: 0..127, thresholds 85/95/105, hysteresis 2.
        let f = LinearFactors::for_values(0.0, 127.0, &[85.0, 95.0, 105.0], &[2.0], None).unwrap();
        assert_eq!((f.m, f.b, f.r_exp), (5, 0, -1));
        for v in [85.0, 95.0, 105.0, 80.0, 0.0, 127.0] {
            assert!(reads_back(&f, v), "{v}");
        }
        assert_eq!(f.to_value(f.to_raw(2.0)), 2.0);
        // Inlet: -20..60 with a lower critical of 0.
        let f =
            LinearFactors::for_values(-20.0, 60.0, &[0.0, 5.0, 40.0, 45.0], &[1.0], None).unwrap();
        for v in [0.0, 5.0, 40.0, 45.0] {
            assert!(reads_back(&f, v), "{v} with {f:?}");
        }
        // Power: 0..4000 W, 2600/3000.
        let f = LinearFactors::for_values(0.0, 4000.0, &[2600.0, 3000.0], &[], None).unwrap();
        assert!(reads_back(&f, 2600.0) && reads_back(&f, 3000.0), "{f:?}");
        assert!(f.resolution() <= 20.0, "{f:?}");
        // A resolution asked for is the step.
        let f = LinearFactors::for_values(0.0, 127.0, &[85.0], &[], Some(1.0)).unwrap();
        assert_eq!(f.resolution(), 1.0);
    }

    #[test]
    fn values_no_grid_holds_are_refused() {
        assert_eq!(
            LinearFactors::for_values(0.0, 127.0, &[85.0], &[], Some(0.3)),
            Err(SdrError::NotExact {
                min: 0.0,
                max: 127.0
            })
        );
        // Covering the range needs a step of at least 0.498; 85.001 and 85
        // share no grid that coarse.
        assert!(LinearFactors::for_values(0.0, 127.0, &[85.0, 85.001], &[], None).is_err());
    }
}
