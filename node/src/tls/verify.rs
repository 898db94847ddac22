//! The rustls hooks that read the current [`ReloadableCerts`] at every handshake: certificate
//! resolvers (what we present) and verifiers (what we accept). The verifiers delegate chain
//! checks to the webpki verifiers built from the current roots, then apply name pinning.
//!
//! A refusal returns a rustls error whose text says why (not signed by a trusted CA, expired,
//! not valid yet, name not allowed) and is logged at warn with the names the certificate carries.
//! Nothing here decides which CA or names are configured: that is [`super::TlsConfig`]'s job.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, OtherError, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::identity::certificate_names;
use super::reload::ReloadableCerts;

/// Presents the current certificate, on the server side and the client side alike.
#[derive(Debug)]
pub(crate) struct CurrentCertResolver {
    pub certs: Arc<ReloadableCerts>,
}

impl ResolvesServerCert for CurrentCertResolver {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.certs.certified_key())
    }
}

impl ResolvesClientCert for CurrentCertResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.certs.certified_key())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// What a peer's leaf certificate must be: a node certificate (the peer channel), and carry
/// one of the allowed names (node name, CN or DNS SAN; empty means any name).
#[derive(Clone, Debug, Default)]
pub(crate) struct NamePolicy {
    pub allowed: Vec<String>,
    /// Only node certificates (see [`super::identity::CertNames::node`]): a client
    /// certificate from the same CA is refused.
    pub require_node: bool,
}

impl NamePolicy {
    fn check(&self, end_entity: &CertificateDer<'_>) -> Result<(), Error> {
        if self.allowed.is_empty() && !self.require_node {
            return Ok(());
        }
        let names = certificate_names(end_entity).unwrap_or_default();
        if self.require_node && names.node.is_none() {
            return Err(refusal(format!(
                "not a node certificate: it presents {} without a '{}<name>' URI name and \
                 serverAuth + clientAuth (client certificates are refused on the peer port; \
                 issue node certificates with 'redoubt certs issue')",
                names.describe(),
                super::identity::NODE_URI_PREFIX
            )));
        }
        if self.allowed.is_empty() || names.matches_any(&self.allowed) {
            return Ok(());
        }
        Err(refusal(format!(
            "name not allowed: the certificate presents {}, peer-allowed-cn is {}",
            names.describe(),
            self.allowed.join(", ")
        )))
    }
}

/// The handshake signature checks both verifiers make: the current provider's algorithms
/// (written once for the two rustls verifier traits, which declare them separately).
macro_rules! delegate_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.certs.provider().signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.certs.provider().signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.certs
                .provider()
                .signature_verification_algorithms
                .supported_schemes()
        }
    };
}

/// A peer's certificate checked against the current trust roots (`verify`), then the name
/// policy; a refusal is explained and logged (rate-limited) as `kind` ("client"/"server").
fn verify_with<T>(
    certs: &ReloadableCerts,
    names: &NamePolicy,
    kind: &str,
    end_entity: &CertificateDer<'_>,
    verify: impl FnOnce(&super::reload::Trust) -> Result<T, Error>,
) -> Result<T, Error> {
    let state = certs.state();
    let result = match &state.trust {
        None => Err(refusal("no CA is configured to verify it".to_string())),
        Some(trust) => verify(trust)
            .map_err(explain)
            .and_then(|verified| names.check(end_entity).map(|()| verified)),
    };
    if let Err(e) = &result {
        log_refusal(certs, kind, end_entity, e);
    }
    result
}

/// Verifies client certificates against the current trust roots (and the name policy).
#[derive(Debug)]
pub(crate) struct CurrentClientVerifier {
    pub certs: Arc<ReloadableCerts>,
    /// False for `tls-auth-clients optional`: a client without a certificate is accepted.
    pub mandatory: bool,
    pub names: NamePolicy,
}

impl ClientCertVerifier for CurrentClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // The roots change at reload and this borrow cannot follow them; an empty list tells
        // clients to send whatever certificate they have (RFC 8446 4.2.4).
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        verify_with(&self.certs, &self.names, "client", end_entity, |trust| {
            trust
                .client_verifier
                .verify_client_cert(end_entity, intermediates, now)
        })
    }

    delegate_signatures!();
}

/// Verifies a server's certificate (chain to the current roots, the name we dialled, and the
/// name policy).
#[derive(Debug)]
pub(crate) struct CurrentServerVerifier {
    pub certs: Arc<ReloadableCerts>,
    pub names: NamePolicy,
}

impl ServerCertVerifier for CurrentServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        verify_with(&self.certs, &self.names, "server", end_entity, |trust| {
            trust.server_verifier.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            )
        })
    }

    delegate_signatures!();
}

/// Why a certificate was refused, as the text of a rustls error.
#[derive(Debug)]
struct Refusal(String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "peer certificate refused: {}", self.0)
    }
}

impl std::error::Error for Refusal {}

fn refusal(reason: String) -> Error {
    Error::Other(OtherError(Arc::new(Refusal(reason))))
}

/// Gives webpki's terse refusals a text that says why. Errors whose text is already clear
/// (expired / not valid yet with their dates, wrong name with the names) keep their variant,
/// so the alert sent to the other side stays precise.
fn explain(err: Error) -> Error {
    match err {
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => refusal(
            "not signed by a trusted CA (unknown issuer: wrong CA or missing intermediate)"
                .to_string(),
        ),
        Error::InvalidCertificate(CertificateError::BadSignature) => refusal(
            "signature does not verify with the trusted CA of that name (a different CA with \
             the same name?)"
                .to_string(),
        ),
        // Expired / not yet valid keep rustls's own wording (its *Context variants say when,
        // and the peer gets the specific alert).
        Error::InvalidCertificate(CertificateError::NotValidForName) => {
            refusal("certificate not valid for the name dialled".to_string())
        }
        Error::InvalidCertificate(CertificateError::BadEncoding) => {
            refusal("certificate cannot be parsed".to_string())
        }
        Error::InvalidCertificate(CertificateError::InvalidPurpose) => {
            refusal("certificate does not allow this use (extended key usage)".to_string())
        }
        other => other,
    }
}

fn log_refusal(certs: &ReloadableCerts, side: &str, end_entity: &CertificateDer<'_>, e: &Error) {
    let presented = certificate_names(end_entity)
        .map(|n| n.describe())
        .unwrap_or_else(|| "an unparseable certificate".into());
    let key = format!("{} ({side} side)", certs.label());
    crate::log_limited!(
        crate::logsafe::CERT_REFUSALS,
        key,
        certs = %certs.label(),
        checking = side,
        presented = %crate::logsafe::Escaped(&presented),
        reason = %crate::logsafe::Escaped(e.to_string()),
        "refused a TLS certificate"
    );
}
