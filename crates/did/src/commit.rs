//! Signing a commit into a dag-jose envelope (`createDagJWS`) and verifying one.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use ceramic_codecs::{Block, Codec, Envelope, Payload, Signature};
use serde_bytes::ByteBuf;

use std::sync::Arc;

use crate::cacao::{Cacao, CacaoError, CacaoVerifier};
use crate::jws::{Jws, JwsSignature, Verified, sign_jws, verify_jws};
use crate::resolver::Resolver;
use crate::signer::Signer;
use crate::{Error, Result};

/// A commit signed by [`sign_commit`]: the payload block, the envelope block and the JWS.
#[derive(Debug, Clone)]
pub struct SignedCommit {
    payload: Payload,
    payload_block: Block,
    envelope: Envelope,
    envelope_block: Block,
    jws: Jws,
    cacao_block: Option<Block>,
}

impl SignedCommit {
    /// The CACAO block the JWS `cap` names, when signed by a session ([`sign_commit_with_cacao`]).
    /// Deliver it with the commit (HTTP `cacaoBlock`, or the commit's CAR).
    pub fn cacao_block(&self) -> Option<&Block> {
        self.cacao_block.as_ref()
    }

    /// The signed payload.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The dag-cbor block of the payload (its CID is the JWS `link`).
    pub fn payload_block(&self) -> &Block {
        &self.payload_block
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The dag-jose block of the envelope; its CID names the commit.
    pub fn envelope_block(&self) -> &Block {
        &self.envelope_block
    }

    /// The JWS.
    pub fn jws(&self) -> &Jws {
        &self.jws
    }

    /// The `DagJWSResult` a js-ceramic client sends over HTTP: `{jws: {payload, signatures,
    /// link}, linkedBlock}` with `linkedBlock` in standard base64 without padding.
    pub fn to_dag_jws_result(&self) -> serde_json::Value {
        let mut jws = self.jws.to_general_json();
        jws["link"] = serde_json::Value::from(self.payload_block.cid().to_string());
        let mut result = serde_json::json!({
            "jws": jws,
            "linkedBlock": STANDARD_NO_PAD.encode(self.payload_block.data()),
        });
        if let Some(cacao) = &self.cacao_block {
            result["cacaoBlock"] = serde_json::Value::from(STANDARD_NO_PAD.encode(cacao.data()));
        }
        result
    }
}

/// Signs a commit payload: encodes it as dag-cbor, signs its CID's bytes as the JWS payload, and
/// wraps the JWS in a dag-jose envelope — byte for byte what `DID.createDagJWS` makes.
///
/// # Errors
/// Codec errors for an unencodable payload, and whatever the signer reports.
pub fn sign_commit(signer: &dyn Signer, payload: &Payload) -> Result<SignedCommit> {
    sign(signer, payload, None)
}

/// Signs a commit as a wallet user through a CACAO session, as `did-session`'s DID does: the
/// session key `signer` signs, the protected header's `cap` is `ipfs://<CID of the CACAO
/// block>`, and the [`SignedCommit`] carries that block. The CACAO is made elsewhere (the
/// wallet signed it); it must name the session DID as its audience and be signed.
///
/// # Errors
/// [`Error::Cacao`] with [`CacaoError::WrongAudience`] or [`CacaoError::Unsigned`]; otherwise as
/// [`sign_commit`].
pub fn sign_commit_with_cacao(
    signer: &dyn Signer,
    cacao: &Cacao,
    payload: &Payload,
) -> Result<SignedCommit> {
    cacao.check_audience(signer.did())?;
    if cacao.s.is_none() {
        return Err(CacaoError::Unsigned.into());
    }
    sign(signer, payload, Some(cacao.to_block()?))
}

fn sign(
    signer: &dyn Signer,
    payload: &Payload,
    cacao_block: Option<Block>,
) -> Result<SignedCommit> {
    let payload_block = Block::encode(Codec::DagCbor, payload)?;
    let cap = cacao_block.as_ref().map(|b| format!("ipfs://{}", b.cid()));
    let jws = sign_jws(signer, &payload_block.cid().to_bytes(), cap.as_deref())?;
    let signatures = jws
        .signatures
        .iter()
        .map(|s: &JwsSignature| Signature {
            header: None,
            protected: Some(ByteBuf::from(s.protected.clone())),
            signature: ByteBuf::from(s.signature.clone()),
        })
        .collect();
    let envelope = Envelope::new(*payload_block.cid(), signatures)?;
    let envelope_block = Block::from_data(Codec::DagJose, envelope.encode()?)?;
    Ok(SignedCommit {
        payload: payload.clone(),
        payload_block,
        envelope,
        envelope_block,
        jws,
        cacao_block,
    })
}

/// Verifies the single signature of an envelope (not the payload block: see [`verify_commit`]).
///
/// # Errors
/// [`Error::SignatureCount`] unless there is exactly one signature,
/// [`Error::InvalidHeader`] when it has no protected header, and the [`verify_jws`] errors.
pub fn verify_envelope(resolver: &dyn Resolver, envelope: &Envelope) -> Result<Verified> {
    let [signature] = envelope.signatures() else {
        return Err(Error::SignatureCount(envelope.signatures().len()));
    };
    let protected =
        signature.protected.as_ref().ok_or(Error::InvalidHeader("missing protected header"))?;
    verify_jws(resolver, envelope.payload(), protected, &signature.signature)
}

/// A signed commit whose envelope, link and signature have been checked.
#[derive(Debug, Clone)]
pub struct VerifiedCommit {
    payload: Payload,
    envelope: Envelope,
    signer: Verified,
}

impl VerifiedCommit {
    /// The payload.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    /// The signing DID. The caller decides whether it may sign (is it the controller?).
    pub fn did(&self) -> &str {
        &self.signer.did
    }

    /// The signature's protected header.
    pub fn signer(&self) -> &Verified {
        &self.signer
    }

    /// For a commit signed under a CACAO (`cap` header): checks the delivered CACAO block
    /// (hash, decoding, wallet signature — cached by `cacaos`) and every rule of a session
    /// commit (audience, resources for `stream_id`, time at `at_ms`: the anchor time, or now).
    /// Returns the CACAO; its issuer (`cacao.p.iss`) is then the DID that signed, and must be
    /// the stream's controller. `Ok(None)` when the signature has no `cap`.
    ///
    /// # Errors
    /// [`Error::Cacao`].
    pub fn check_capability(
        &self,
        cacaos: &CacaoVerifier,
        cacao_block: &[u8],
        stream_id: &str,
        model: Option<&str>,
        at_ms: i64,
    ) -> Result<Option<Arc<Cacao>>> {
        let Some(cap) = &self.signer.header.cap else { return Ok(None) };
        let cacao = cacaos.verify_block(cap, cacao_block)?;
        cacao.check_commit(&self.signer.did, stream_id, self.envelope.link(), model, at_ms)?;
        Ok(Some(cacao))
    }
}

/// Verifies a signed commit from its two blocks: the envelope decodes strictly, the payload block
/// hashes to the envelope's link, the signature verifies, and the payload decodes strictly.
///
/// # Errors
/// Codec errors (including [`ceramic_codecs::Error::HashMismatch`] when the payload block is not
/// the one signed) and the [`verify_envelope`] errors.
pub fn verify_commit(
    resolver: &dyn Resolver,
    envelope_block: &[u8],
    payload_block: &[u8],
) -> Result<VerifiedCommit> {
    let envelope = Envelope::decode(envelope_block)?;
    Block::check(envelope.link(), payload_block)?;
    let payload = Payload::decode(payload_block)?;
    let signer = verify_envelope(resolver, &envelope)?;
    Ok(VerifiedCommit { payload, envelope, signer })
}
