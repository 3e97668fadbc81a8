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

    /// Resolves the DID of a JWS `kid` (a DID URL) to the document its signature must verify
    /// against. By default the query and fragment are ignored; did:3 reads its `version-id`.
    ///
    /// # Errors
    /// As [`Resolver::resolve`].
    fn resolve_kid(&self, kid: &str) -> Result<Arc<DidDocument>> {
        self.resolve(did_of(kid))
    }

    /// Checks that a signature by `kid` made at `at_time` (the anchor time of the commit, `None`
    /// while unanchored) is valid under the method's key rotation rules. did:key never rotates.
    ///
    /// # Errors
    /// The method's errors (did:3: [`crate::ThreeIdError::Revoked`] and the like).
    fn check_key_time(&self, kid: &str, at_time: Option<u64>) -> Result<()> {
        let _ = (kid, at_time);
        Ok(())
    }

    /// Whether `did`'s document may be cached (did:3 documents change with their stream).
    fn cacheable(&self, did: &str) -> bool {
        let _ = did;
        true
    }
}

/// The DID of a DID URL: without its `?query` and `#fragment`.
pub(crate) fn did_of(url: &str) -> &str {
    let end = url.find(['#', '?']).unwrap_or(url.len());
    &url[..end]
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

impl Registry {
    fn method(&self, did: &str) -> Result<&Arc<dyn Resolver>> {
        let mut parts = did.splitn(3, ':');
        let (Some("did"), Some(method), Some(_)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::NotADid(did.chars().take(200).collect()));
        };
        self.methods.get(method).ok_or_else(|| Error::UnsupportedMethod(method.to_string()))
    }
}

impl Resolver for Registry {
    fn resolve(&self, did: &str) -> Result<Arc<DidDocument>> {
        self.method(did)?.resolve(did)
    }

    fn resolve_kid(&self, kid: &str) -> Result<Arc<DidDocument>> {
        self.method(kid)?.resolve_kid(kid)
    }

    fn check_key_time(&self, kid: &str, at_time: Option<u64>) -> Result<()> {
        self.method(kid)?.check_key_time(kid, at_time)
    }

    fn cacheable(&self, did: &str) -> bool {
        self.method(did).is_ok_and(|m| m.cacheable(did))
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
        if !self.inner.cacheable(did) {
            return self.inner.resolve(did);
        }
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

    fn resolve_kid(&self, kid: &str) -> Result<Arc<DidDocument>> {
        let did = did_of(kid);
        if self.inner.cacheable(did) { self.resolve(did) } else { self.inner.resolve_kid(kid) }
    }

    fn check_key_time(&self, kid: &str, at_time: Option<u64>) -> Result<()> {
        self.inner.check_key_time(kid, at_time)
    }

    fn cacheable(&self, did: &str) -> bool {
        self.inner.cacheable(did)
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
