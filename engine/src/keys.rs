//! iroh identities: 32-byte secret keys in, 64-hex endpoint ids out.
//!
//! Everything that crosses into JavaScript as an identity goes through here, so the
//! "64 lowercase hex" rule of the Datum API lives in one place.

use iroh::{EndpointId, SecretKey};
use napi::bindgen_prelude::Buffer;

/// Length of an Ed25519 secret key in bytes.
pub const SECRET_KEY_LEN: usize = 32;

/// Builds a secret key from exactly 32 bytes.
pub fn secret_key_from_bytes(bytes: &[u8]) -> Result<SecretKey, String> {
    let array: [u8; SECRET_KEY_LEN] = bytes.try_into().map_err(|_| {
        format!(
            "a secret key is {SECRET_KEY_LEN} bytes, got {}",
            bytes.len()
        )
    })?;
    Ok(SecretKey::from_bytes(&array))
}

/// Writes an endpoint id the way the Datum API stores it: 64 lowercase hex characters.
pub fn endpoint_id_hex(id: &EndpointId) -> String {
    id.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses an endpoint id written as 64 hex characters (either case).
pub fn parse_endpoint_id(text: &str) -> Result<EndpointId, String> {
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("an endpoint id is 64 hex characters, got {text:?}"));
    }
    let mut bytes = [0u8; 32];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("an endpoint id is 64 hex characters, got {text:?}"))?;
    }
    EndpointId::from_bytes(&bytes).map_err(|e| format!("not a valid endpoint id: {e}"))
}

/// Returns the endpoint id (64 lowercase hex) that belongs to a 32-byte secret key.
#[napi_derive::napi]
pub fn endpoint_id_from_secret_key(secret_key: Buffer) -> napi::Result<String> {
    let key = secret_key_from_bytes(&secret_key).map_err(napi::Error::from_reason)?;
    Ok(endpoint_id_hex(&key.public()))
}

/// Generates a fresh random 32-byte secret key.
#[napi_derive::napi]
pub fn generate_secret_key() -> Buffer {
    SecretKey::generate().to_bytes().to_vec().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_id_round_trips_as_lowercase_hex() {
        let key = secret_key_from_bytes(&[7u8; 32]).unwrap();
        let hex = endpoint_id_hex(&key.public());
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        assert_eq!(
            parse_endpoint_id(&hex.to_uppercase()).unwrap(),
            key.public()
        );
        assert_eq!(hex, key.public().to_string());
    }

    #[test]
    fn rejects_wrong_lengths() {
        assert!(secret_key_from_bytes(&[1u8; 31]).is_err());
        assert!(parse_endpoint_id("abcd").is_err());
        assert!(parse_endpoint_id(&"g".repeat(64)).is_err());
    }
}
