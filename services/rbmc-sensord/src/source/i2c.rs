//! Sensors read directly over i2c-dev (`/dev/i2c-N`), for parts with no
//! kernel hwmon driver bound:
//! - LM75/TMP75-class temperature sensors: register 00h, a big-endian
//!   two's-complement value in 1/256 °C (LM75 fills bits 15:7, TMP75 bits
//!   15:4; both read correctly this way).
//! - PMBus devices (PMBus spec part II): READ_VIN 88h, READ_IOUT 8Ch,
//!   READ_TEMPERATURE_1 8Dh in LINEAR11, READ_VOUT 8Bh in LINEAR16 scaled by
//!   VOUT_MODE 20h.
//!
//! The conversions are pure functions, tested here; the bus is behind
//! [`SmbusDevice`], implemented by i2cdev's `LinuxI2CDevice`.

use std::sync::Mutex;

use i2cdev::{core::I2CDevice, linux::LinuxI2CDevice};
use rbmc_config::PmbusReading;

use super::{ReadingSource, SourceError};

/// PMBus VOUT_MODE.
const VOUT_MODE: u8 = 0x20;

/// The SMBus transactions these sensors need.
pub trait SmbusDevice: Send {
    /// SMBus Read Word: the word as the device sends it, low byte first.
    fn read_word(&mut self, register: u8) -> std::io::Result<u16>;
    /// SMBus Read Byte.
    fn read_byte(&mut self, register: u8) -> std::io::Result<u8>;
}

impl SmbusDevice for LinuxI2CDevice {
    fn read_word(&mut self, register: u8) -> std::io::Result<u16> {
        self.smbus_read_word_data(register)
            .map_err(std::io::Error::other)
    }

    fn read_byte(&mut self, register: u8) -> std::io::Result<u8> {
        self.smbus_read_byte_data(register)
            .map_err(std::io::Error::other)
    }
}

/// LM75 temperature: the register's two bytes, most significant first.
pub fn lm75_celsius(msb: u8, lsb: u8) -> f64 {
    f64::from(i16::from_be_bytes([msb, lsb])) / 256.0
}

/// PMBus LINEAR11: bits 15:11 a 5-bit two's-complement exponent N, bits
/// 10:0 an 11-bit two's-complement mantissa Y; value = Y · 2^N.
pub fn linear11(word: u16) -> f64 {
    let exponent = sign_extend(word >> 11, 5);
    let mantissa = sign_extend(word & 0x07FF, 11);
    f64::from(mantissa) * 2f64.powi(i32::from(exponent))
}

/// PMBus LINEAR16: an unsigned mantissa scaled by 2^N, N the 5-bit
/// two's-complement exponent in VOUT_MODE bits 4:0; bits 7:5 must be 000b
/// (linear mode).
pub fn linear16(word: u16, vout_mode: u8) -> Option<f64> {
    if vout_mode >> 5 != 0 {
        return None;
    }
    let exponent = sign_extend(u16::from(vout_mode & 0x1F), 5);
    Some(f64::from(word) * 2f64.powi(i32::from(exponent)))
}

/// Sign-extends the low `bits` bits of `value`.
fn sign_extend(value: u16, bits: u32) -> i16 {
    let shift = 16 - bits;
    i16::from_ne_bytes((value << shift).to_ne_bytes()) >> shift
}

/// What to read from the device.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Lm75,
    Pmbus(PmbusReading),
}

/// A sensor on an i2c-dev bus, opened on first use and reopened after an
/// error.
pub struct I2cSource {
    bus: u8,
    address: u8,
    kind: Kind,
    device: Mutex<Option<Box<dyn SmbusDevice>>>,
}

impl std::fmt::Debug for I2cSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "I2cSource(/dev/i2c-{} @ {:#04x}, {:?})",
            self.bus, self.address, self.kind
        )
    }
}

impl I2cSource {
    /// An LM75-class sensor.
    pub fn lm75(bus: u8, address: u8) -> Self {
        Self::new(bus, address, Kind::Lm75)
    }

    /// A PMBus reading.
    pub fn pmbus(bus: u8, address: u8, reading: PmbusReading) -> Self {
        Self::new(bus, address, Kind::Pmbus(reading))
    }

    fn new(bus: u8, address: u8, kind: Kind) -> Self {
        Self {
            bus,
            address,
            kind,
            device: Mutex::new(None),
        }
    }

    /// Uses `device` instead of opening `/dev/i2c-N` (tests).
    pub fn with_device(self, device: Box<dyn SmbusDevice>) -> Self {
        *self.device.lock().unwrap_or_else(|e| e.into_inner()) = Some(device);
        self
    }

    fn path(&self) -> String {
        format!("/dev/i2c-{}", self.bus)
    }

    fn measure(&self, device: &mut dyn SmbusDevice) -> std::io::Result<f64> {
        let invalid =
            |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
        match self.kind {
            Kind::Lm75 => {
                let [msb, lsb] = device.read_word(0x00)?.to_le_bytes();
                // SMBus sends the low byte first, the LM75 its MSB first.
                Ok(lm75_celsius(msb, lsb))
            }
            Kind::Pmbus(PmbusReading::Vin) => Ok(linear11(device.read_word(0x88)?)),
            Kind::Pmbus(PmbusReading::Iout) => Ok(linear11(device.read_word(0x8C)?)),
            Kind::Pmbus(PmbusReading::Temperature1) => Ok(linear11(device.read_word(0x8D)?)),
            Kind::Pmbus(PmbusReading::Vout) => {
                let mode = device.read_byte(VOUT_MODE)?;
                let word = device.read_word(0x8B)?;
                linear16(word, mode).ok_or_else(|| invalid("VOUT_MODE is not linear"))
            }
        }
    }
}

impl ReadingSource for I2cSource {
    fn read(&self) -> Result<f64, SourceError> {
        let mut slot = self.device.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            let device =
                LinuxI2CDevice::new(self.path(), u16::from(self.address)).map_err(|e| {
                    SourceError::Read {
                        path: self.path().into(),
                        source: std::io::Error::other(e),
                    }
                })?;
            *slot = Some(Box::new(device));
        }
        let device = slot.as_mut().expect("opened above");
        match self.measure(device.as_mut()) {
            Ok(value) => Ok(value),
            Err(source) => {
                // Reopen next time: the adapter may have been reset.
                *slot = None;
                Err(SourceError::Read {
                    path: format!("{} @ {:#04x}", self.path(), self.address).into(),
                    source,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn lm75_values_from_the_datasheet_table() {
        // LM75 datasheet table: +125 °C = 0FAh<<7, +25 = 032h<<7,
        // +0.5 = 001h<<7, -0.5 = 1FFh<<7, -25 = 1CEh<<7, -55 = 192h<<7.
        for (nine_bits, celsius) in [
            (0x0FAu16, 125.0),
            (0x032, 25.0),
            (0x001, 0.5),
            (0x000, 0.0),
            (0x1FF, -0.5),
            (0x1CE, -25.0),
            (0x192, -55.0),
        ] {
            let [msb, lsb] = (nine_bits << 7).to_be_bytes();
            assert_eq!(lm75_celsius(msb, lsb), celsius, "{nine_bits:#x}");
        }
        // TMP75 12-bit: 0.0625 °C steps.
        assert_eq!(lm75_celsius(0x19, 0x10), 25.0625);
    }

    #[test]
    fn linear11_examples() {
        // N = -2 (11110b), Y = 50 -> 12.5
        assert_eq!(linear11((0b11110 << 11) | 50), 12.5);
        // N = 0, Y = -1 (7FFh) -> -1
        assert_eq!(linear11(0x07FF), -1.0);
        // N = 3, Y = 100 -> 800
        assert_eq!(linear11((3 << 11) | 100), 800.0);
        // N = -9 (10111b), Y = 1023 -> 1.998046875
        assert_eq!(linear11((0b10111 << 11) | 1023), 1023.0 / 512.0);
    }

    #[test]
    fn linear16_uses_vout_mode() {
        // VOUT_MODE 17h: linear, N = -9; 0x1800 / 512 = 12.0 V.
        assert_eq!(linear16(0x1800, 0x17), Some(12.0));
        assert_eq!(linear16(0x0200, 0x00), Some(512.0));
        assert_eq!(linear16(0x1800, 0x40), None, "VID mode is refused");
    }

    struct FakeDevice(HashMap<u8, u16>);

    impl SmbusDevice for FakeDevice {
        fn read_word(&mut self, register: u8) -> std::io::Result<u16> {
            self.0
                .get(&register)
                .copied()
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::TimedOut))
        }
        fn read_byte(&mut self, register: u8) -> std::io::Result<u8> {
            self.read_word(register).map(|w| w.to_le_bytes()[0])
        }
    }

    #[test]
    fn sources_read_through_the_smbus_seam() {
        // LM75 at 25.5 °C: bytes 19h 80h, sent low byte first over SMBus.
        let lm75 = I2cSource::lm75(3, 0x48)
            .with_device(Box::new(FakeDevice(HashMap::from([(0x00, 0x8019)]))));
        assert_eq!(lm75.read().unwrap(), 25.5);
        let vout = I2cSource::pmbus(7, 0x58, PmbusReading::Vout).with_device(Box::new(FakeDevice(
            HashMap::from([(0x20, 0x17), (0x8B, 0x1800)]),
        )));
        assert_eq!(vout.read().unwrap(), 12.0);
        let vin = I2cSource::pmbus(7, 0x58, PmbusReading::Vin)
            .with_device(Box::new(FakeDevice(HashMap::new())));
        assert!(matches!(vin.read(), Err(SourceError::Read { .. })));
    }
}
