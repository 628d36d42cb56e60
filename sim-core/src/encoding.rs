//! The one place that knows the binary encoding of traces and of nodes' disk records.
//!
//! Everything binary goes through [`encode`] and [`decode`], so that the encoding crate
//! (bincode 2 today; bincode 3 is a deliberate compile error and the crate is
//! unmaintained) can be swapped for postcard or wincode by editing this file alone.
//!
//! ```
//! use sim_core::encoding::{decode, encode};
//!
//! let bytes = encode(&(7_u64, "vote".to_string()));
//! let back: (u64, String) = decode(&bytes).unwrap();
//! assert_eq!(back, (7, "vote".to_string()));
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

/// Bytes that do not decode as the expected type.
#[derive(Debug, Error)]
#[error("cannot decode {type_name}: {reason}")]
pub struct DecodeError {
    type_name: &'static str,
    reason: String,
}

/// The most bytes one decode may claim. Damaged bytes can announce absurd lengths (a
/// flipped bit in a length prefix); the limit turns those into an error instead of an
/// attempt to allocate them.
const DECODE_LIMIT_BYTES: usize = 1 << 30;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT_BYTES>()
}

/// Encodes `value` into bytes. Panics only if `value`'s `Serialize` impl fails, which
/// for plain data types is a bug.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, config()).expect("serializing plain data cannot fail")
}

/// Decodes bytes produced by [`encode`]. Trailing bytes are an error: a record is
/// either exactly right or rejected.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let type_name = std::any::type_name::<T>();
    let (value, read) =
        bincode::serde::decode_from_slice(bytes, config()).map_err(|error| DecodeError {
            type_name,
            reason: error.to_string(),
        })?;
    if read != bytes.len() {
        return Err(DecodeError {
            type_name,
            reason: format!("{} trailing bytes", bytes.len() - read),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let value = (1_u8, vec![2_u64, 3], Some("four".to_string()));
        assert_eq!(
            decode::<(u8, Vec<u64>, Option<String>)>(&encode(&value)).unwrap(),
            value
        );
    }

    #[test]
    fn an_absurd_length_prefix_is_an_error_not_an_allocation() {
        let mut bytes = encode(&vec![1_u64, 2, 3]);
        // The first byte is the varint length; make it announce 2^56 elements.
        bytes.splice(0..1, [0xfd, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert!(decode::<Vec<u64>>(&bytes).is_err());
    }

    #[test]
    fn truncated_and_padded_bytes_are_rejected() {
        let bytes = encode(&"a fairly long string".to_string());
        let truncated = decode::<String>(&bytes[..bytes.len() - 3]).unwrap_err();
        assert!(truncated.to_string().contains("String"), "{truncated}");
        let mut padded = bytes.clone();
        padded.push(0);
        let padded = decode::<String>(&padded).unwrap_err();
        assert!(padded.to_string().contains("trailing"), "{padded}");
    }
}
