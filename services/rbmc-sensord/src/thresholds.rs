//! Threshold evaluation with hysteresis, and the IPMI events it produces
//! (IPMI v2.0 §36.4, Table 42-2 generic event/reading type 01h "threshold").
//!
//! Works on readings as ordered integers (raw values, sign-extended for
//! 2's-complement sensors), so a value exactly at a threshold behaves as the
//! host's view of the raw reading says.
//!
//! Bits, in the order of Get/Set Sensor Thresholds' mask: bit 0 LNC, 1 LCR,
//! 2 LNR, 3 UNC, 4 UCR, 5 UNR. Lower thresholds assert "going low" when the
//! reading is at or below them and deassert once it rises above threshold +
//! hysteresis; upper thresholds assert "going high" at or above and deassert
//! below threshold - hysteresis.

/// Threshold values as ordered integers, indexed by mask bit.
pub type Levels = [Option<i16>; 6];

/// Mask bits of the lower thresholds.
pub const LOWER: u8 = 0b000_111;

/// One threshold crossing.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Crossing {
    /// Mask bit index, 0 (LNC) to 5 (UNR).
    pub bit: u8,
    /// True when the condition began, false when it ended.
    pub asserted: bool,
}

impl Crossing {
    /// The event offset (Table 42-2): lower thresholds report "going low"
    /// (even offsets 00h, 02h, 04h), upper thresholds "going high" (07h,
    /// 09h, 0Bh).
    pub fn event_offset(self) -> u8 {
        if LOWER & (1 << self.bit) != 0 {
            self.bit * 2
        } else {
            self.bit * 2 + 1
        }
    }
}

/// The new asserted set for `reading`, given the previous one, and the
/// crossings between them.
pub fn evaluate(
    reading: i16,
    levels: &Levels,
    positive_hysteresis: i16,
    negative_hysteresis: i16,
    previous: u8,
) -> (u8, Vec<Crossing>) {
    let mut now = 0u8;
    for (bit, level) in levels.iter().enumerate() {
        let Some(level) = *level else { continue };
        let mask = 1u8 << bit;
        let was = previous & mask != 0;
        let active = if LOWER & mask != 0 {
            reading <= level || (was && reading <= level.saturating_add(positive_hysteresis))
        } else {
            reading >= level || (was && reading >= level.saturating_sub(negative_hysteresis))
        };
        if active {
            now |= mask;
        }
    }
    let crossings = (0..6u8)
        .filter(|bit| (now ^ previous) & (1 << bit) != 0)
        .map(|bit| Crossing {
            bit,
            asserted: now & (1 << bit) != 0,
        })
        .collect();
    (now, crossings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNC: u8 = 3;
    const UCR: u8 = 4;
    const LCR: u8 = 1;

    fn levels() -> Levels {
        // lcr 10, unc 80, ucr 90
        [None, Some(10), None, Some(80), Some(90), None]
    }

    #[test]
    fn upper_thresholds_assert_and_deassert_with_hysteresis() {
        let (state, crossings) = evaluate(85, &levels(), 2, 2, 0);
        assert_eq!(state, 1 << UNC);
        assert_eq!(
            crossings,
            [Crossing {
                bit: UNC,
                asserted: true
            }]
        );
        // Back to 79: within hysteresis (80 - 2), still asserted.
        let (state, crossings) = evaluate(79, &levels(), 2, 2, state);
        assert_eq!(state, 1 << UNC);
        assert!(crossings.is_empty());
        let (state, crossings) = evaluate(77, &levels(), 2, 2, state);
        assert_eq!(state, 0);
        assert_eq!(
            crossings,
            [Crossing {
                bit: UNC,
                asserted: false
            }]
        );
        let (state, crossings) = evaluate(95, &levels(), 2, 2, 0);
        assert_eq!(state, (1 << UNC) | (1 << UCR));
        assert_eq!(crossings.len(), 2);
    }

    #[test]
    fn lower_thresholds_assert_at_or_below() {
        let (state, _) = evaluate(10, &levels(), 3, 3, 0);
        assert_eq!(state, 1 << LCR);
        let (state, _) = evaluate(12, &levels(), 3, 3, state);
        assert_eq!(state, 1 << LCR, "inside hysteresis");
        let (state, crossings) = evaluate(14, &levels(), 3, 3, state);
        assert_eq!(state, 0);
        assert_eq!(
            crossings,
            [Crossing {
                bit: LCR,
                asserted: false
            }]
        );
    }

    #[test]
    fn event_offsets_follow_table_42_2() {
        for (bit, offset) in [
            (0, 0x00),
            (1, 0x02),
            (2, 0x04),
            (3, 0x07),
            (4, 0x09),
            (5, 0x0B),
        ] {
            assert_eq!(
                Crossing {
                    bit,
                    asserted: true
                }
                .event_offset(),
                offset
            );
        }
    }
}
