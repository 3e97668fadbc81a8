//! What the offline commands read: a did:key seed (`--seed` or `--seed-file`) and an input file
//! (or standard input), as bytes or hex text.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::{Context, Result};

#[derive(Debug, clap::Args)]
pub(crate) struct KeyArgs {
    /// The seed as 64 hex characters.
    #[arg(long, conflicts_with = "seed_file", required_unless_present = "seed_file")]
    seed: Option<String>,
    /// A file holding the seed as 64 hex characters.
    #[arg(long)]
    seed_file: Option<PathBuf>,
    /// `ed25519` or `secp256k1`.
    #[arg(long, default_value = "ed25519")]
    key_type: String,
    /// Sign as this 3ID (`did:3:…`) with the key (a secp256k1 key of its document).
    #[arg(long = "as-3id")]
    as_three_id: Option<String>,
    /// With `--as-3id`: the 3ID version (a commit of its stream) whose document lists the key.
    #[arg(long = "3id-version", requires = "as_three_id")]
    three_id_version: Option<String>,
}

impl KeyArgs {
    pub(crate) fn signer(&self) -> Result<ceramic_did::KeySigner> {
        let text = match (&self.seed, &self.seed_file) {
            (Some(seed), _) => seed.clone(),
            (None, Some(path)) => {
                std::fs::read_to_string(path).with_context(|| format!("reading {path:?}"))?
            }
            (None, None) => anyhow::bail!("give --seed or --seed-file"),
        };
        let seed = hex::decode(text.trim()).context("the seed is not hex")?;
        let key_type = self.key_type.parse()?;
        Ok(ceramic_did::KeySigner::from_seed(key_type, &seed)?)
    }

    /// The signer of writes: the did:key, or with `--as-3id` the 3ID key
    /// (`kid = did:3:…?version-id=…#…`).
    pub(crate) fn writer(&self) -> Result<Box<dyn ceramic_did::Signer>> {
        let key = self.signer()?;
        let Some(did) = &self.as_three_id else { return Ok(Box::new(key)) };
        let version = self
            .three_id_version
            .as_deref()
            .map(|v| v.parse().with_context(|| format!("--3id-version {v:?} is not a CID")))
            .transpose()?;
        Ok(Box::new(ceramic_did::ThreeIdSigner::new(key, did, version)?))
    }
}

pub(crate) fn read_input(file: &PathBuf, hex_text: bool) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).context("reading standard input")?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("reading {file:?}"))?;
    }
    if hex_text {
        let text = String::from_utf8(bytes).context("hex input is not text")?;
        bytes = hex::decode(text.trim()).context("input is not hex")?;
    }
    Ok(bytes)
}
