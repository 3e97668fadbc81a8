//! The resolver interface, DID documents, the did:key resolver, a cache and a registry of methods.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::key::{DidKey, PublicKey};
use crate::{Error, Result};

/// A verification method of a DID document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationMethod {
    /// Its id, e.g. `did:key:z…#z…`.
    pub id: String,
    /// The DID that controls it.
    pub controller: String,
    /// Its public key.
    pub public_key: PublicKey,
}

/// The parts of a DID document that signature checks need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidDocument {
    /// The DID.
    pub id: String,
    /// Its verification methods.
    pub verification_methods: Vec<VerificationMethod>,
}

/// Resolves a DID to its document. Implementations must be cheap to call repeatedly or cache
/// (see [`CachingResolver`]).
pub trait Resolver: Send + Sync + fmt::Debug {
    /// Resolves `did` (no fragment, no query).
    ///
    /// # Errors
    /// [`Error::NotADid`], [`Error::UnsupportedMethod`], or the method's own errors.
    fn resolve(&self, did: &str) -> Result<Arc<DidDocument>>;
}

/// The did:key resolver: the document is computed from the DID itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyResolver;

impl Resolver for KeyResolver {
    fn resolve(&self, did: &str) -> Result<Arc<DidDocument>> {
        let key: DidKey = did.parse()?;
        Ok(Arc::new(DidDocument {
            id: key.did().to_string(),
            verification_methods: vec![VerificationMethod {
                id: key.kid(),
                controller: key.did().to_string(),
                public_key: key.public_key().clone(),
            }],
        }))
    }
}

/// Resolves through a map of DID methods (`key`, `3`, `pkh`, …) to their resolvers.
#[derive(Debug, Clone)]
pub struct Registry {
    methods: HashMap<String, Arc<dyn Resolver>>,
}

impl Default for Registry {
    /// A registry with did:key.
    fn default() -> Self {
        Registry::empty().with("key", KeyResolver)
    }
}

impl Registry {
    /// A registry with no methods.
    pub fn empty() -> Self {
        Registry { methods: HashMap::new() }
    }

    /// Adds (or replaces) the resolver for `method` (the part after `did:`).
    pub fn with(mut self, method: &str, resolver: impl Resolver + 'static) -> Self {
        self.methods.insert(method.to_string(), Arc::new(resolver));
        self
    }
}

impl Resolver for Registry {
    fn resolve(&self, did: &str) -> Result<Arc<DidDocument>> {
        let mut parts = did.splitn(3, ':');
        let (Some("did"), Some(method), Some(_)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::NotADid(did.chars().take(200).collect()));
        };
        let resolver =
            self.methods.get(method).ok_or_else(|| Error::UnsupportedMethod(method.to_string()))?;
        resolver.resolve(did)
    }
}

/// Caches the documents another resolver returns, up to `capacity` DIDs (then starts afresh).
///
/// Decoding a key costs 8–12 µs, a tenth of a signature check; one writer signs many commits.
#[derive(Debug)]
pub struct CachingResolver<R> {
    inner: R,
    capacity: usize,
    cache: Mutex<HashMap<String, Arc<DidDocument>>>,
}

impl<R: Resolver> CachingResolver<R> {
    /// Caches up to `capacity` documents resolved by `inner`.
    pub fn new(inner: R, capacity: usize) -> Self {
        CachingResolver { inner, capacity, cache: Mutex::new(HashMap::new()) }
    }
}

impl<R: Resolver> Resolver for CachingResolver<R> {
    fn resolve(&self, did: &str) -> Result<Arc<DidDocument>> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still valid.
        if let Some(doc) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(did) {
            return Ok(doc.clone());
        }
        let doc = self.inner.resolve(did)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= self.capacity {
            cache.clear();
        }
        cache.insert(did.to_string(), doc.clone());
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeySigner, KeyType, Signer};

    #[test]
    fn registry_dispatches_by_method() {
        let signer = KeySigner::from_seed(KeyType::Ed25519, &[1; 32]).unwrap();
        let registry = Registry::default();
        let doc = registry.resolve(signer.did()).unwrap();
        assert_eq!(doc.verification_methods[0].id, signer.kid());
        assert!(
            matches!(registry.resolve("did:3:kjzl"), Err(Error::UnsupportedMethod(m)) if m == "3")
        );
        assert!(matches!(registry.resolve("did:key"), Err(Error::NotADid(_))));
    }

    #[test]
    fn cache_returns_the_same_document_and_stays_bounded() {
        let cache = CachingResolver::new(KeyResolver, 2);
        let dids: Vec<String> = (0..3u8)
            .map(|n| KeySigner::from_seed(KeyType::Ed25519, &[n; 32]).unwrap().did().to_string())
            .collect();
        let first = cache.resolve(&dids[0]).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.resolve(&dids[0]).unwrap()));
        for did in &dids {
            cache.resolve(did).unwrap();
        }
        assert!(cache.cache.lock().unwrap().len() <= 2);
    }
}
