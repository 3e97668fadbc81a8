//! JSON views of ids, blocks, CARs and keys for the CLI.

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use ceramic_codecs::{Block, Codec, Envelope, Ipld, Payload, read_car, to_dag_json};
use ceramic_did::{KeySigner, Signer, sign_commit};
use ceramic_streamid::{StreamRef, StreamType};
use serde_json::{Value, json};

pub(crate) fn id(text: &str, hex_bytes: bool) -> Result<Value> {
    let parsed = if hex_bytes {
        StreamRef::from_bytes(&hex::decode(text.trim()).context("not hex")?)?
    } else {
        text.parse::<StreamRef>()?
    };
    let stream = parsed.stream_id();
    let (kind, commit, is_genesis) = match parsed {
        StreamRef::Stream(_) => ("StreamID", None, None),
        StreamRef::Commit(c) => ("CommitID", Some(c.commit().to_string()), Some(c.is_genesis())),
    };
    Ok(json!({
        "kind": kind,
        "id": parsed.to_string(),
        "url": format!("ceramic://{parsed}"),
        "stream_id": stream.to_string(),
        "type": stream.stream_type().code(),
        "type_name": stream.stream_type().name(),
        "genesis": stream.cid().to_string(),
        "commit": commit,
        "is_genesis": is_genesis,
        "bytes": hex::encode(parsed.to_bytes()),
    }))
}

fn dag_json(value: &Ipld) -> Result<Value> {
    Ok(serde_json::from_str(&to_dag_json(value)?)?)
}

fn describe(bytes: &[u8]) -> Result<Value> {
    if let Ok(envelope) = Envelope::decode(bytes) {
        return envelope_json(&envelope, bytes);
    }
    match Payload::decode(bytes) {
        Ok(payload) => {
            let value: Ipld = ceramic_codecs::decode(bytes, "commit payload")?;
            Ok(json!({
                "codec": "dag-cbor",
                "cid": Block::from_data(Codec::DagCbor, bytes.to_vec())?.cid().to_string(),
                "kind": payload.kind(),
                "value": dag_json(&value)?,
            }))
        }
        Err(commit_error) => {
            // Not a commit: maybe another dag-cbor block (a proof, a Merkle node).
            let value: Ipld = ceramic_codecs::decode(bytes, "block")
                .with_context(|| format!("not a commit ({commit_error}) nor dag-cbor"))?;
            Ok(json!({
                "codec": "dag-cbor",
                "cid": Block::from_data(Codec::DagCbor, bytes.to_vec())?.cid().to_string(),
                "kind": "block",
                "value": dag_json(&value)?,
            }))
        }
    }
}

fn envelope_json(envelope: &Envelope, bytes: &[u8]) -> Result<Value> {
    let signatures: Vec<Value> = envelope
        .signatures()
        .iter()
        .map(|s| {
            let protected = s.protected.as_ref().map(|p| String::from_utf8_lossy(p).into_owned());
            json!({ "protected": protected, "signature": URL_SAFE_NO_PAD.encode(&s.signature) })
        })
        .collect();
    Ok(json!({
        "codec": "dag-jose",
        "cid": Block::from_data(Codec::DagJose, bytes.to_vec())?.cid().to_string(),
        "kind": "envelope",
        "link": envelope.link().to_string(),
        "signatures": signatures,
    }))
}

pub(crate) fn block(bytes: &[u8]) -> Result<Value> {
    describe(bytes)
}

pub(crate) fn car(bytes: &[u8]) -> Result<Value> {
    let car = read_car(bytes)?;
    let blocks = car
        .blocks
        .iter()
        .map(|b| {
            let mut value = describe(b.data())?;
            // Use the CID the CAR gives (it may be any codec, e.g. raw), already hash-checked.
            value["cid"] = json!(b.cid().to_string());
            Ok(value)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "roots": car.roots.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "blocks": blocks,
    }))
}

pub(crate) fn did(signer: &KeySigner, seed: Option<&[u8; 32]>) -> Value {
    let key = signer.did_key();
    let mut value = json!({
        "did": signer.did(),
        "kid": signer.kid(),
        "key_type": key.public_key().key_type().name(),
        "public_key": hex::encode(key.public_key().to_bytes()),
    });
    if let Some(seed) = seed {
        value["seed"] = json!(hex::encode(seed));
    }
    value
}

pub(crate) fn sign(signer: &KeySigner, payload_json: &str) -> Result<Value> {
    let value: Ipld = serde_ipld_dagjson::from_slice(payload_json.as_bytes())
        .context("payload is not dag-json")?;
    let Ipld::Map(_) = value else {
        bail!("the payload must be a map with header/data or id/prev/data")
    };
    let bytes = ceramic_codecs::encode(&value)?;
    let payload = Payload::decode(&bytes).context("the payload is not a commit")?;
    let signed = sign_commit(signer, &payload)?;
    let mut out = signed.to_dag_jws_result();
    let envelope_cid = *signed.envelope_block().cid();
    out["cid"] = json!(envelope_cid.to_string());
    out["envelopeBlock"] = json!(STANDARD_NO_PAD.encode(signed.envelope_block().data()));
    if let Payload::Genesis(_) = payload {
        let stream = ceramic_streamid::StreamId::new(StreamType::TILE, envelope_cid)?;
        out["tileStreamId"] = json!(stream.to_string());
    }
    Ok(out)
}
