//! The master key that seals signing keys at rest (AES-256-GCM).

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use portcullis_jose::Pkcs8Der;
use zeroize::Zeroizing;

use crate::random;

/// 256 bits that seal private keys in storage. Its `Debug` prints `[redacted]`.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

/// The sealed data was not sealed by this master key for this key id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the master key cannot open this sealed key")]
pub struct OpenError;

impl MasterKey {
    /// A new random master key.
    pub fn generate() -> Self {
        MasterKey(Zeroizing::new(random::bytes::<32>()))
    }

    /// Parses the text form: standard base64 of 32 bytes (whitespace around is ignored).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = Zeroizing::new(STANDARD.decode(text.trim()).ok()?);
        let key: [u8; 32] = bytes.as_slice().try_into().ok()?;
        Some(MasterKey(Zeroizing::new(key)))
    }

    /// The text form, for the key file.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0.as_slice()))
    }

    fn cipher(&self) -> LessSafeKey {
        // A 32-byte key is always a valid AES-256 key.
        #[allow(clippy::expect_used)]
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, self.0.as_slice()).expect("32-byte key"))
    }

    /// Seals `plain`, bound to `context` (the key id): nonce || ciphertext || tag.
    pub fn seal(&self, context: &str, plain: &Pkcs8Der) -> Vec<u8> {
        let nonce = random::bytes::<NONCE_LEN>();
        let mut data = plain.as_bytes().to_vec();
        // Sealing in place only fails for inputs larger than AES-GCM allows (64 GiB).
        #[allow(clippy::expect_used)]
        self.cipher()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut data,
            )
            .expect("a private key is far below the AES-GCM size limit");
        let mut out = nonce.to_vec();
        out.append(&mut data);
        out
    }

    /// Opens what [`MasterKey::seal`] produced for the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Pkcs8Der, OpenError> {
        if sealed.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OpenError)?;
        let mut data = data.to_vec();
        let plain = self
            .cipher()
            .open_in_place(nonce, Aad::from(context), &mut data)
            .map_err(|_| OpenError)?
            .to_vec();
        data.fill(0);
        Ok(Pkcs8Der::new(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_master_key_and_kid() {
        let master = MasterKey::generate();
        let plain = Pkcs8Der::new(b"private".to_vec());
        let sealed = master.seal("kid-1", &plain);
        assert_eq!(
            master.open("kid-1", &sealed).unwrap().as_bytes(),
            b"private"
        );
        assert_eq!(master.open("kid-2", &sealed).unwrap_err(), OpenError);
        assert_eq!(
            MasterKey::generate().open("kid-1", &sealed).unwrap_err(),
            OpenError
        );
        assert_eq!(master.open("kid-1", &sealed[..5]).unwrap_err(), OpenError);
    }

    #[test]
    fn text_form_round_trips() {
        let master = MasterKey::generate();
        let again = MasterKey::parse(&format!("{}\n", master.to_text().as_str())).unwrap();
        let sealed = master.seal("k", &Pkcs8Der::new(vec![1, 2, 3]));
        assert!(again.open("k", &sealed).is_ok());
        assert!(MasterKey::parse("c2hvcnQ=").is_none());
    }
}
