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
