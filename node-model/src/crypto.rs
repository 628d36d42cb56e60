//! Modelled cryptography: hashes and signatures with the properties protocols rely on,
//! at the cost of a few multiplications.
//!
//! A [`CryptoHash`] is a 64-bit digest under sim-core's stable hasher: collisions are
//! negligible for the sizes a simulation reaches. A signature is unforgeable by
//! construction: the only way to produce one is [`SecretKey::sign`], and a secret key
//! exists only where genesis handed it out (a validator's own node, a client's own
//! account). Anyone can check a signature with the signer's [`PublicKey`]. The
//! verification trapdoor is private to this module, so protocol code (honest or
//! adversarial) cannot mint a valid signature for a key it does not hold.
//!
//! ```
//! use node_model::crypto::{CryptoHash, SecretKey};
//!
//! let alice = SecretKey::derive(7, "alice");
//! let message = CryptoHash::of(&("transfer", 10_u64));
//! let signature = alice.sign(message);
//! assert!(alice.public_key().verify(message, signature));
//! assert!(!SecretKey::derive(7, "bob").public_key().verify(message, signature));
//! ```

use std::fmt;
use std::hash::Hash;

use serde::{Deserialize, Serialize};
use sim_core::trace::digest;

/// A 64-bit content digest.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CryptoHash(pub u64);

impl CryptoHash {
    /// The digest of `value`.
    pub fn of<T: Hash + ?Sized>(value: &T) -> CryptoHash {
        CryptoHash(mix(digest(value)))
    }
}

impl fmt::Debug for CryptoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:08x}", self.0 >> 32)
    }
}

impl fmt::Display for CryptoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Finalises a digest (SplitMix64's mixer): every input bit affects every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An odd multiplier and its inverse modulo 2^64: the public/secret trapdoor.
const KEY_MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;
const KEY_MULTIPLIER_INVERSE: u64 = key_inverse(KEY_MULTIPLIER);

/// The inverse of an odd number modulo 2^64 (Newton's iteration).
const fn key_inverse(a: u64) -> u64 {
    let mut x = a;
    let mut i = 0;
    while i < 6 {
        x = x.wrapping_mul(2_u64.wrapping_sub(a.wrapping_mul(x)));
        i += 1;
    }
    x
}

const _: () = assert!(KEY_MULTIPLIER.wrapping_mul(KEY_MULTIPLIER_INVERSE) == 1);

/// A signing key. Whoever holds it can sign as its owner.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SecretKey(u64);

/// A verification key, known to everyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PublicKey(u64);

/// A signature over a [`CryptoHash`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature(pub u64);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// The key of account `name` in the chain seeded with `chain_seed`: genesis derives
    /// every key this way and hands each one only to its owner.
    pub fn derive(chain_seed: u64, name: &str) -> SecretKey {
        SecretKey(mix(digest(&(chain_seed, "secret-key", name))) | 1)
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.wrapping_mul(KEY_MULTIPLIER))
    }

    /// Signs `message`.
    pub fn sign(&self, message: CryptoHash) -> Signature {
        Signature(mix(self.0 ^ mix(message.0)))
    }
}

impl PublicKey {
    /// Is `signature` this key's signature of `message`?
    pub fn verify(&self, message: CryptoHash, signature: Signature) -> bool {
        let secret = SecretKey(self.0.wrapping_mul(KEY_MULTIPLIER_INVERSE));
        secret.sign(message) == signature
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_key_and_message() {
        let key = SecretKey::derive(1, "validator-0");
        let message = CryptoHash::of("block 7");
        let signature = key.sign(message);
        assert!(key.public_key().verify(message, signature));
        assert!(
            !key.public_key()
                .verify(CryptoHash::of("block 8"), signature)
        );
        let other = SecretKey::derive(1, "validator-1");
        assert!(!other.public_key().verify(message, signature));
        assert!(!key.public_key().verify(message, Signature(signature.0 ^ 1)));
    }

    #[test]
    fn keys_depend_on_the_chain_and_the_name() {
        let key = |seed, name| SecretKey::derive(seed, name).public_key();
        assert_ne!(key(1, "alice"), key(2, "alice"));
        assert_ne!(key(1, "alice"), key(1, "bob"));
        assert_eq!(key(1, "alice"), key(1, "alice"));
    }

    #[test]
    fn hashes_separate_values() {
        assert_ne!(CryptoHash::of(&1_u64), CryptoHash::of(&2_u64));
        assert_eq!(CryptoHash::of("x"), CryptoHash::of("x"));
    }
}
