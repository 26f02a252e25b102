//! RMCP+ cryptography for cipher suites 3 and 17 (IPMI v2.0 §13.28-13.29,
//! §22.15.2 Table 22-20).
//!
//! | suite | authentication   | integrity       | confidentiality |
//! |-------|------------------|-----------------|-----------------|
//! | 3     | RAKP-HMAC-SHA1   | HMAC-SHA1-96    | AES-CBC-128     |
//! | 17    | RAKP-HMAC-SHA256 | HMAC-SHA256-128 | AES-CBC-128     |
//!
//! HMAC comes from `ring`; AES-CBC from RustCrypto's `aes` and `cbc` (ring has
//! no CBC mode). Nothing here is hand-rolled crypto: this module only puts the
//! spec's fields in the spec's order.

use aes::Aes128;
use cbc::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use ring::hmac;

use crate::{AuthAlgorithm, ConfidentialityAlgorithm, IntegrityAlgorithm, WireError};

/// AES block size, and the length of the IV that starts each encrypted payload.
pub const AES_BLOCK: usize = 16;

/// A cipher suite this BMC offers. Suite 0 (no authentication) and every suite
/// without integrity and confidentiality are deliberately absent.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct CipherSuite {
    /// The suite ID (IPMI v2.0 Table 22-20).
    pub id: u8,
    /// RAKP algorithm.
    pub auth: AuthAlgorithm,
    /// Integrity algorithm for session packets.
    pub integrity: IntegrityAlgorithm,
    /// Confidentiality algorithm for session packets.
    pub confidentiality: ConfidentialityAlgorithm,
}

impl CipherSuite {
    /// Suite 3: RAKP-HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128.
    pub const SUITE_3: Self = Self {
        id: 3,
        auth: AuthAlgorithm::RAKP_HMAC_SHA1,
        integrity: IntegrityAlgorithm::HMAC_SHA1_96,
        confidentiality: ConfidentialityAlgorithm::AES_CBC_128,
    };
    /// Suite 17: RAKP-HMAC-SHA256, HMAC-SHA256-128, AES-CBC-128.
    pub const SUITE_17: Self = Self {
        id: 17,
        auth: AuthAlgorithm::RAKP_HMAC_SHA256,
        integrity: IntegrityAlgorithm::HMAC_SHA256_128,
        confidentiality: ConfidentialityAlgorithm::AES_CBC_128,
    };
    /// Every suite this implementation can run.
    pub const SUPPORTED: [Self; 2] = [Self::SUITE_3, Self::SUITE_17];

    /// The supported suite with this ID.
    pub fn by_id(id: u8) -> Option<Self> {
        Self::SUPPORTED.into_iter().find(|suite| suite.id == id)
    }

    /// The supported suite with exactly these three algorithms.
    pub fn by_algorithms(
        auth: AuthAlgorithm,
        integrity: IntegrityAlgorithm,
        confidentiality: ConfidentialityAlgorithm,
    ) -> Option<Self> {
        Self::SUPPORTED.into_iter().find(|suite| {
            suite.auth == auth
                && suite.integrity == integrity
                && suite.confidentiality == confidentiality
        })
    }

    /// Length of the RAKP 2/3 key exchange authentication code: the full HMAC.
    pub fn rakp_code_len(&self) -> usize {
        self.hmac_algorithm().digest_algorithm().output_len()
    }

    /// Length of the RAKP 4 integrity check value (§13.31: HMAC-SHA1-96 or
    /// HMAC-SHA256-128).
    pub fn rakp4_icv_len(&self) -> usize {
        self.integrity_code_len()
    }

    /// Length of the AuthCode field of session packets.
    pub fn integrity_code_len(&self) -> usize {
        if self.integrity == IntegrityAlgorithm::HMAC_SHA256_128 {
            16
        } else {
            12
        }
    }

    fn hmac_algorithm(&self) -> hmac::Algorithm {
        if self.auth == AuthAlgorithm::RAKP_HMAC_SHA256 {
            hmac::HMAC_SHA256
        } else {
            hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY
        }
    }

    /// HMAC of the concatenation of `parts` under `key`, with this suite's
    /// RAKP hash.
    pub fn hmac(&self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&hmac::Key::new(self.hmac_algorithm(), key));
        for part in parts {
            ctx.update(part);
        }
        ctx.sign().as_ref().to_vec()
    }
}

/// The values both sides know once RAKP message 1 and 2 have been exchanged
/// (IPMI v2.0 §13.31-13.32). In the spec's names, `m` is the remote console
/// and `c` the managed system (the BMC).
#[derive(Clone, Debug)]
pub struct RakpTranscript {
    /// SIDm: the remote console's session ID.
    pub console_session_id: u32,
    /// SIDc: the BMC's session ID.
    pub bmc_session_id: u32,
    /// Rm: the remote console's random number.
    pub console_random: [u8; 16],
    /// Rc: the BMC's random number.
    pub bmc_random: [u8; 16],
    /// GUIDc: the BMC's GUID, as sent in RAKP 2.
    pub bmc_guid: [u8; 16],
    /// ROLEm: the whole requested-role byte of RAKP 1 (privilege and lookup bit).
    pub role: u8,
    /// UNAMEm: the user name of RAKP 1.
    pub username: Vec<u8>,
}

impl RakpTranscript {
    fn username_len(&self) -> [u8; 1] {
        // RAKP 1 limits the name to 16 bytes, so this never truncates.
        [u8::try_from(self.username.len()).unwrap_or(u8::MAX)]
    }

    /// RAKP 2 key exchange authentication code:
    /// HMAC_Kuid(SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENGTHm, UNAMEm).
    pub fn rakp2_code(&self, suite: &CipherSuite, kuid: &[u8]) -> Vec<u8> {
        suite.hmac(
            kuid,
            &[
                &self.console_session_id.to_le_bytes(),
                &self.bmc_session_id.to_le_bytes(),
                &self.console_random,
                &self.bmc_random,
                &self.bmc_guid,
                &[self.role],
                &self.username_len(),
                &self.username,
            ],
        )
    }

    /// RAKP 3 key exchange authentication code:
    /// HMAC_Kuid(Rc, SIDm, ROLEm, ULENGTHm, UNAMEm).
    pub fn rakp3_code(&self, suite: &CipherSuite, kuid: &[u8]) -> Vec<u8> {
        suite.hmac(
            kuid,
            &[
                &self.bmc_random,
                &self.console_session_id.to_le_bytes(),
                &[self.role],
                &self.username_len(),
                &self.username,
            ],
        )
    }

    /// Whether `code` is the RAKP 3 code for `kuid`, compared in constant time.
    pub fn verify_rakp3(&self, suite: &CipherSuite, kuid: &[u8], code: &[u8]) -> bool {
        let key = hmac::Key::new(suite.hmac_algorithm(), kuid);
        let mut message = Vec::with_capacity(40 + self.username.len());
        message.extend_from_slice(&self.bmc_random);
        message.extend_from_slice(&self.console_session_id.to_le_bytes());
        message.push(self.role);
        message.extend_from_slice(&self.username_len());
        message.extend_from_slice(&self.username);
        hmac::verify(&key, &message, code).is_ok()
    }

    /// The session integrity key: SIK = HMAC_Kg(Rm, Rc, ROLEm, ULENGTHm,
    /// UNAMEm), where Kg is the BMC key, or Kuid when no BMC key is set
    /// (§13.31).
    pub fn sik(&self, suite: &CipherSuite, kg_or_kuid: &[u8]) -> Vec<u8> {
        suite.hmac(
            kg_or_kuid,
            &[
                &self.console_random,
                &self.bmc_random,
                &[self.role],
                &self.username_len(),
                &self.username,
            ],
        )
    }

    /// RAKP 4 integrity check value: HMAC_SIK(Rm, SIDc, GUIDc), truncated to
    /// the suite's integrity length.
    pub fn rakp4_icv(&self, suite: &CipherSuite, sik: &[u8]) -> Vec<u8> {
        let mut code = suite.hmac(
            sik,
            &[
                &self.console_random,
                &self.bmc_session_id.to_le_bytes(),
                &self.bmc_guid,
            ],
        );
        code.truncate(suite.rakp4_icv_len());
        code
    }
}

/// The keys of an established session (IPMI v2.0 §13.32).
#[derive(Clone)]
pub struct SessionKeys {
    suite: CipherSuite,
    k1: hmac::Key,
    k2: [u8; 16],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("SessionKeys")
            .field("suite", &self.suite.id)
            .finish_non_exhaustive()
    }
}

impl SessionKeys {
    /// Derives K1 = HMAC_SIK(Const1) and K2 = HMAC_SIK(Const2), where the
    /// constants are 20 bytes of 01h and 02h (§13.32); the AES key is the
    /// first 128 bits of K2.
    pub fn derive(suite: CipherSuite, sik: &[u8]) -> Self {
        let k1 = Self::derive_k(&suite, sik, 0x01);
        let k2_full = Self::derive_k(&suite, sik, 0x02);
        let mut k2 = [0u8; 16];
        k2.copy_from_slice(&k2_full[..16]);
        Self {
            k1: hmac::Key::new(suite.hmac_algorithm(), &k1),
            k2,
            suite,
        }
    }

    /// Kn = HMAC_SIK(20 bytes of `constant`).
    pub fn derive_k(suite: &CipherSuite, sik: &[u8], constant: u8) -> Vec<u8> {
        suite.hmac(sik, &[&[constant; 20]])
    }

    /// The cipher suite these keys belong to.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The integrity AuthCode over `covered` (auth type through next header):
    /// HMAC_K1 truncated to 96 or 128 bits (§13.28.4).
    pub fn integrity_code(&self, covered: &[u8]) -> Vec<u8> {
        let tag = hmac::sign(&self.k1, covered);
        tag.as_ref()[..self.suite.integrity_code_len()].to_vec()
    }

    /// Whether `code` is the AuthCode of `covered`, compared in constant time.
    pub fn verify_integrity(&self, covered: &[u8], code: &[u8]) -> bool {
        let expected = self.integrity_code(covered);
        constant_time_eq(&expected, code)
    }

    /// Encrypts a payload with AES-CBC-128 (§13.29): a random IV, then the
    /// payload, pad bytes 01h, 02h, … and the pad length, all encrypted.
    pub fn encrypt(&self, iv: [u8; AES_BLOCK], payload: &[u8]) -> Vec<u8> {
        // Always below 16, so it fits a byte.
        let pad_len =
            u8::try_from((AES_BLOCK - (payload.len() + 1) % AES_BLOCK) % AES_BLOCK).unwrap_or(0);
        let mut buf = Vec::with_capacity(AES_BLOCK + payload.len() + usize::from(pad_len) + 1);
        buf.extend_from_slice(payload);
        buf.extend(1..=pad_len);
        buf.push(pad_len);
        let len = buf.len();
        cbc::Encryptor::<Aes128>::new(&self.k2.into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, len)
            .expect("buffer is a whole number of blocks by construction");
        let mut out = iv.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    /// Decrypts an AES-CBC-128 payload and strips and checks the padding.
    pub fn decrypt(&self, data: &[u8]) -> Result<Vec<u8>, WireError> {
        if data.len() < 2 * AES_BLOCK || !data.len().is_multiple_of(AES_BLOCK) {
            return Err(WireError::BadCiphertext);
        }
        let (iv, ciphertext) = data.split_at(AES_BLOCK);
        let mut iv_block = [0u8; AES_BLOCK];
        iv_block.copy_from_slice(iv);
        let mut buf = ciphertext.to_vec();
        cbc::Decryptor::<Aes128>::new(&self.k2.into(), &iv_block.into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| WireError::BadCiphertext)?;
        let pad_len = usize::from(*buf.last().ok_or(WireError::BadCiphertext)?);
        if pad_len >= AES_BLOCK || pad_len + 1 > buf.len() {
            return Err(WireError::BadCiphertext);
        }
        let body_len = buf.len() - pad_len - 1;
        let pad_ok = buf[body_len..buf.len() - 1]
            .iter()
            .enumerate()
            .all(|(i, b)| usize::from(*b) == i + 1);
        if !pad_ok {
            return Err(WireError::BadCiphertext);
        }
        buf.truncate(body_len);
        Ok(buf)
    }
}

/// Compares two byte strings without an early exit on the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    //! Known answers from sources independent of this module: the RFC and
    //! NIST vectors for the primitives, and RustCrypto's `hmac` crate (a
    //! second HMAC implementation) for the spec's field orderings.
    use super::*;
    use ::hmac::{Hmac, Mac};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn second_hmac(suite: &CipherSuite, key: &[u8], message: &[u8]) -> Vec<u8> {
        if suite.id == 17 {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        } else {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).unwrap();
            mac.update(message);
            mac.finalize().into_bytes().to_vec()
        }
    }

    fn transcript() -> RakpTranscript {
        RakpTranscript {
            console_session_id: 0xA0A1_A2A3,
            bmc_session_id: 0x0201_0000,
            console_random: *b"0123456789abcdef",
            bmc_random: *b"FEDCBA9876543210",
            bmc_guid: [0x5A; 16],
            role: 0x14,
            username: b"admin".to_vec(),
        }
    }

    #[test]
    fn hmac_sha1_rfc2202_case_2() {
        let out = CipherSuite::SUITE_3.hmac(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(out, hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
    }

    #[test]
    fn hmac_sha256_rfc4231_case_2() {
        let out = CipherSuite::SUITE_17.hmac(b"Jefe", &[b"what do ya want for nothing?"]);
        assert_eq!(
            out,
            hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }

    #[test]
    fn rakp_codes_follow_the_spec_field_order() {
        let t = transcript();
        let kuid = b"rbmc-admin";
        for suite in CipherSuite::SUPPORTED {
            // Fields laid out by hand from §13.31, hashed by a second HMAC.
            let mut m2 = Vec::new();
            m2.extend_from_slice(&[0xA3, 0xA2, 0xA1, 0xA0, 0x00, 0x00, 0x01, 0x02]);
            m2.extend_from_slice(b"0123456789abcdefFEDCBA9876543210");
            m2.extend_from_slice(&[0x5A; 16]);
            m2.extend_from_slice(&[0x14, 5]);
            m2.extend_from_slice(b"admin");
            assert_eq!(t.rakp2_code(&suite, kuid), second_hmac(&suite, kuid, &m2));

            let mut m3 = b"FEDCBA9876543210".to_vec();
            m3.extend_from_slice(&[0xA3, 0xA2, 0xA1, 0xA0, 0x14, 5]);
            m3.extend_from_slice(b"admin");
            let code3 = second_hmac(&suite, kuid, &m3);
            assert_eq!(t.rakp3_code(&suite, kuid), code3);
            assert!(t.verify_rakp3(&suite, kuid, &code3));
            let mut forged = code3.clone();
            forged[0] ^= 1;
            assert!(!t.verify_rakp3(&suite, kuid, &forged));
            assert!(!t.verify_rakp3(&suite, b"wrong", &code3));

            let mut msik = b"0123456789abcdefFEDCBA9876543210".to_vec();
            msik.extend_from_slice(&[0x14, 5]);
            msik.extend_from_slice(b"admin");
            let sik = second_hmac(&suite, kuid, &msik);
            assert_eq!(t.sik(&suite, kuid), sik);

            let mut m4 = b"0123456789abcdef".to_vec();
            m4.extend_from_slice(&[0x00, 0x00, 0x01, 0x02]);
            m4.extend_from_slice(&[0x5A; 16]);
            let icv = second_hmac(&suite, &sik, &m4);
            assert_eq!(t.rakp4_icv(&suite, &sik), icv[..suite.rakp4_icv_len()]);

            let k1 = second_hmac(&suite, &sik, &[1u8; 20]);
            let k2 = second_hmac(&suite, &sik, &[2u8; 20]);
            assert_eq!(SessionKeys::derive_k(&suite, &sik, 1), k1);
            let keys = SessionKeys::derive(suite, &sik);
            let covered = b"\x06\xc0\x00\x01\x02\x03\x04\x00\x00\x00\x20\x00";
            let code = second_hmac(&suite, &k1, covered);
            assert_eq!(
                keys.integrity_code(covered),
                code[..suite.integrity_code_len()]
            );
            assert!(keys.verify_integrity(covered, &code[..suite.integrity_code_len()]));
            assert!(!keys.verify_integrity(covered, &code[..4]));
            assert_eq!(keys.k2, k2[..16]);
        }
    }

    #[test]
    fn code_lengths_per_suite() {
        assert_eq!(CipherSuite::SUITE_3.rakp_code_len(), 20);
        assert_eq!(CipherSuite::SUITE_3.integrity_code_len(), 12);
        assert_eq!(CipherSuite::SUITE_17.rakp_code_len(), 32);
        assert_eq!(CipherSuite::SUITE_17.integrity_code_len(), 16);
        assert_eq!(CipherSuite::by_id(0), None);
        assert_eq!(CipherSuite::by_id(17), Some(CipherSuite::SUITE_17));
    }

    /// The cipher against NIST SP 800-38A F.2.1 (CBC-AES128.Encrypt, block
    /// 1), then the IPMI framing (IV first, pad bytes 01h, 02h, …, pad length)
    /// checked by decrypting with the raw cipher, not with `decrypt`.
    #[test]
    fn aes_cbc_nist_vector_and_ipmi_padding() {
        let key: [u8; 16] = hex("2b7e151628aed2a6abf7158809cf4f3c").try_into().unwrap();
        let iv: [u8; 16] = hex("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
        let keys = SessionKeys {
            suite: CipherSuite::SUITE_3,
            k1: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, b"k1"),
            k2: key,
        };
        let nist_ct = hex("7649abac8119b246cee98e9b12e9197d");
        let mut framed = iv.to_vec();
        framed.extend_from_slice(&nist_ct);
        // The NIST plaintext ends in 2Ah, not a valid pad length: rejected.
        assert_eq!(keys.decrypt(&framed), Err(WireError::BadCiphertext));
        // Raw check of the cipher against the NIST vector.
        let mut block = hex("6bc1bee22e409f96e93d7e117393172a");
        cbc::Encryptor::<Aes128>::new(&key.into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut block, 16)
            .unwrap();
        assert_eq!(block, nist_ct);

        for len in [0usize, 1, 14, 15, 16, 17, 31, 100] {
            let payload: Vec<u8> = (0..=u8::MAX).cycle().take(len).collect();
            let out = keys.encrypt(iv, &payload);
            assert_eq!(out.len() % 16, 0);
            assert_eq!(&out[..16], &iv);
            // Pad bytes are 01h, 02h, ... then the count (§13.29.1).
            let mut plain = out[16..].to_vec();
            cbc::Decryptor::<Aes128>::new(&key.into(), &iv.into())
                .decrypt_padded_mut::<NoPadding>(&mut plain)
                .unwrap();
            let pad = usize::from(*plain.last().unwrap());
            assert_eq!(plain.len(), len + pad + 1);
            assert!(plain[len..len + pad]
                .iter()
                .enumerate()
                .all(|(i, b)| usize::from(*b) == i + 1));
            assert_eq!(keys.decrypt(&out).unwrap(), payload);
        }
    }

    #[test]
    fn decrypt_rejects_bad_lengths() {
        let keys = SessionKeys::derive(CipherSuite::SUITE_3, b"sik");
        assert!(keys.decrypt(&[0u8; 16]).is_err());
        assert!(keys.decrypt(&[0u8; 33]).is_err());
    }
}
