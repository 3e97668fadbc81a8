//! CACAO sessions made by the real `did-session`, `@didtools/cacao`, `@didtools/pkh-ethereum`,
//! `@didtools/pkh-solana` and `@ceramicnetwork/stream-tile` (`crates/did/testdata/js-cacao.json`,
//! `cargo xtask vectors`): every valid commit verifies to its wallet's did:pkh, every bad one
//! gets its own typed error.

use std::collections::HashMap;

use ceramic_codecs::{Cid, read_car};
use ceramic_did::{
    Cacao, CacaoError, CacaoVerifier, Error, KeyResolver, KeySigner, KeyType, PkhAccount, Signer,
    SiweMessage, eip55_checksum, sign_commit_with_cacao, verify_commit,
};
use serde_json::Value;

fn cases() -> Vec<Value> {
    ceramic_streamid::test_utils::load_vectors(env!("CARGO_MANIFEST_DIR"), "js-cacao.json")
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn at_ms(case: &Value) -> i64 {
    case["at_time"].as_i64().unwrap() * 1000
}

/// Verifies one commit record as the engine does: the JWS by the session key, then the CACAO.
fn verify(
    verifier: &CacaoVerifier,
    commit: &Value,
    at_ms: i64,
) -> Result<std::sync::Arc<Cacao>, Error> {
    let verified = verify_commit(
        &KeyResolver,
        &unhex(&commit["envelope_hex"]),
        &unhex(&commit["payload_hex"]),
    )
    .expect("the session key's JWS signature verifies in every case");
    let stream = commit["stream_id"].as_str().unwrap();
    verified
        .check_capability(verifier, &unhex(&commit["cacao_block_hex"]), stream, None, at_ms)
        .map(|c| c.expect("the header has a cap"))
}

#[test]
fn cacao_blocks_decode_and_re_encode_byte_for_byte() {
    for case in cases() {
        let bytes = unhex(&case["cacao_hex"]);
        let cacao = Cacao::decode(&bytes).unwrap();
        assert_eq!(cacao.to_block().unwrap().data(), bytes.as_slice(), "{}", case["name"]);
        assert_eq!(serde_json::to_value(&cacao).unwrap(), case["cacao_json"], "{}", case["name"]);
    }
}

#[test]
fn the_signed_message_is_built_as_didtools_builds_it() {
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let cacao = Cacao::decode(&unhex(&case["cacao_hex"])).unwrap();
        let message = cacao.message().unwrap();
        let want = case["signed_message"].as_str().unwrap();
        let built = match cacao.issuer().unwrap().account() {
            PkhAccount::Eip155 { bytes, .. } if name != "ethereum-lowercase-message" => {
                message.to_message_with_address(&eip55_checksum(bytes))
            }
            _ => message.to_message(),
        };
        assert_eq!(built, want, "{name}");
        let parsed = SiweMessage::parse(want).unwrap();
        assert_eq!(parsed.to_message(), want, "{name}");
        assert_eq!(parsed.nonce, cacao.p.nonce);
    }
}

#[test]
fn every_valid_session_commit_verifies_to_the_wallet() {
    let verifier = CacaoVerifier::default();
    let mut count = 0;
    for case in cases().into_iter().filter(|c| c["valid"] == true) {
        for commit in case["commits"].as_array().unwrap() {
            assert!(commit["js_error"].is_null());
            let cacao = verify(&verifier, commit, at_ms(&case))
                .unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
            assert_eq!(cacao.p.iss, case["controller"].as_str().unwrap());
            count += 1;
        }
    }
    assert_eq!(count, 7);
}

#[test]
fn every_bad_session_commit_gets_its_own_error() {
    let mut seen = 0;
    for case in cases().into_iter().filter(|c| c["valid"] == false) {
        let name = case["name"].as_str().unwrap();
        for commit in case["commits"].as_array().unwrap() {
            let verifier = CacaoVerifier::default();
            let err = verify(&verifier, commit, at_ms(&case)).unwrap_err();
            let Error::Cacao(err) = err else { panic!("{name}: {err}") };
            let ok = match case["error"].as_str().unwrap() {
                "expired" => matches!(err, CacaoError::Expired { .. }),
                "audience" => matches!(err, CacaoError::WrongAudience { .. }),
                "resource" => matches!(err, CacaoError::ResourceNotCovered { .. }),
                "signature" => matches!(err, CacaoError::BadSignature { .. }),
                "cid" => matches!(err, CacaoError::CidMismatch { .. }),
                other => panic!("unknown error kind {other}"),
            };
            assert!(ok, "{name}: {err:?}");
            seen += 1;
        }
    }
    assert_eq!(seen, 6);
}

#[test]
fn an_expired_cacao_is_still_valid_within_the_phase_out() {
    let case = cases().into_iter().find(|c| c["name"] == "expired").unwrap();
    let commit = &case["commits"][0];
    let exp =
        ceramic_did::parse_time("exp", case["cacao_json"]["p"]["exp"].as_str().unwrap()).unwrap();
    let verifier = CacaoVerifier::default();
    assert!(verify(&verifier, commit, exp + 23 * 3_600_000).is_ok(), "24 h phase-out");
    assert!(verify(&verifier, commit, exp - 3_600_000).is_ok(), "at signing time");
}

#[test]
fn the_cars_carry_the_cacao_under_its_cid_and_a_mismatch_is_refused() {
    for case in cases() {
        for commit in case["commits"].as_array().unwrap() {
            let car = read_car(&unhex(&commit["car_hex"]));
            if case["name"] == "cacao-cid-mismatch" {
                assert!(matches!(car, Err(ceramic_codecs::Error::HashMismatch { .. })));
                continue;
            }
            let car = car.unwrap();
            let blocks: HashMap<Cid, Vec<u8>> =
                car.blocks.iter().map(|b| (*b.cid(), b.data().to_vec())).collect();
            let cacao_cid: Cid = commit["cacao_cid"].as_str().unwrap().parse().unwrap();
            assert_eq!(blocks[&cacao_cid], unhex(&commit["cacao_block_hex"]));
            assert_eq!(car.roots[0].to_string(), commit["envelope_cid"].as_str().unwrap());
        }
    }
}

#[test]
fn a_cached_cacao_is_still_hash_checked() {
    let case = cases().into_iter().find(|c| c["name"] == "ethereum-session").unwrap();
    let verifier = CacaoVerifier::default();
    let commit = &case["commits"][0];
    verify(&verifier, commit, at_ms(&case)).unwrap();
    let mut forged = commit.clone();
    let other = cases().into_iter().find(|c| c["name"] == "solana-session").unwrap();
    forged["cacao_block_hex"] = other["cacao_hex"].clone();
    assert!(matches!(
        verify(&verifier, &forged, at_ms(&case)),
        Err(Error::Cacao(CacaoError::CidMismatch { .. }))
    ));
}

#[test]
fn a_rust_service_signs_as_the_wallet_user_with_a_session_made_elsewhere() {
    // The Solana CACAO names the session key sha256("ceramic-rs cacao session sol").
    let case = cases().into_iter().find(|c| c["name"] == "solana-session").unwrap();
    let cacao = Cacao::decode(&unhex(&case["cacao_hex"])).unwrap();
    let seed: [u8; 32] = {
        use sha2::Digest as _;
        sha2::Sha256::digest(b"ceramic-rs cacao session sol").into()
    };
    let session = KeySigner::from_seed(KeyType::Ed25519, &seed).unwrap();
    assert_eq!(session.did(), cacao.p.aud);
    let genesis = ceramic_codecs::GenesisCommit {
        header: ceramic_codecs::Header {
            controllers: Some(vec![cacao.p.iss.clone()]),
            ..Default::default()
        },
        data: Some(ceramic_codecs::Ipld::Null),
    };
    let signed = sign_commit_with_cacao(&session, &cacao, &genesis.into()).unwrap();
    let verified =
        verify_commit(&KeyResolver, signed.envelope_block().data(), signed.payload_block().data())
            .unwrap();
    let cacao_block = signed.cacao_block().unwrap();
    assert_eq!(
        verified.signer().header.cap.as_deref(),
        Some(format!("ipfs://{}", cacao_block.cid()).as_str())
    );
    let stream = ceramic_streamid::StreamId::new(
        ceramic_streamid::StreamType::TILE,
        *signed.envelope_block().cid(),
    )
    .unwrap();
    let checked = verified
        .check_capability(
            &CacaoVerifier::default(),
            cacao_block.data(),
            &stream.to_string(),
            None,
            at_ms(&case),
        )
        .unwrap()
        .unwrap();
    assert_eq!(checked.p.iss, case["controller"].as_str().unwrap());
    assert!(signed.to_dag_jws_result()["cacaoBlock"].is_string());
    // Another session key cannot use this CACAO.
    let other = KeySigner::from_seed(KeyType::Ed25519, &[9; 32]).unwrap();
    assert!(matches!(
        sign_commit_with_cacao(
            &other,
            &cacao,
            &ceramic_codecs::GenesisCommit { header: Default::default(), data: None }.into()
        ),
        Err(Error::Cacao(CacaoError::WrongAudience { .. }))
    ));
}
