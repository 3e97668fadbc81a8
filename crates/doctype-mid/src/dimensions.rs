//! The dimensions of a MID or Model stream as ceramic-one reports them
//! (`/ceramic/streams/{id}`: `dimensions` of the init event header: `model`, `controller`,
//! `unique`, `context`), computed from a state.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use ceramic_doctype::StreamState;
use ceramic_streamid::StreamId;
use serde_json::Value;

/// The dimensions of a stream's init event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimensions {
    /// The StreamID bytes of the model (the meta-model for a Model).
    pub model: Vec<u8>,
    /// The controller DID, as UTF-8 bytes.
    pub controller: Vec<u8>,
    /// The `unique` bytes (empty when the genesis had none).
    pub unique: Vec<u8>,
    /// The StreamID bytes of the context, when the genesis had one.
    pub context: Option<Vec<u8>>,
}

/// Why a state has no dimensions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DimensionsError {
    /// A metadata field is absent or malformed.
    #[error("the state's metadata has no valid {0}")]
    Metadata(&'static str),
}

/// The dimensions of a Model or MID state (from its genesis metadata, which updates never
/// change).
///
/// # Errors
/// [`DimensionsError`] when the state's metadata lacks the model or controller, or holds a
/// malformed `unique` or `context` (not a Model or MID state).
pub fn dimensions(state: &StreamState) -> Result<Dimensions, DimensionsError> {
    let metadata = state.metadata();
    let stream = |key: &'static str| -> Result<Option<Vec<u8>>, DimensionsError> {
        match metadata.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => s
                .parse::<StreamId>()
                .map(|id| Some(id.to_bytes()))
                .map_err(|_| DimensionsError::Metadata(key)),
            Some(_) => Err(DimensionsError::Metadata(key)),
        }
    };
    let model = stream("model")?.ok_or(DimensionsError::Metadata("model"))?;
    let controller = state.controller().ok_or(DimensionsError::Metadata("controller"))?;
    let unique = match metadata.get("unique") {
        None => Vec::new(),
        Some(Value::String(s)) => STANDARD_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(|_| DimensionsError::Metadata("unique"))?,
        Some(_) => return Err(DimensionsError::Metadata("unique")),
    };
    Ok(Dimensions {
        model,
        controller: controller.as_bytes().to_vec(),
        unique,
        context: stream("context")?,
    })
}
