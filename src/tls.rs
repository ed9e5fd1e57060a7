//! The one TLS client setup (rustls on aws-lc): the built-in web PKI roots,
//! plus an optional CA file (PEM bundle or one DER certificate), e.g. the RDS
//! `global-bundle.pem`. Certificates are always verified.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;

/// A client configuration trusting the built-in roots and `extra_ca`'s certificates.
pub fn client_config(extra_ca: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = extra_ca {
        let certs = read_certs(path)?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!("CA file {} holds no usable certificate (--ca wants PEM or DER)", path.display()));
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The built-in roots only (shared: built once per process).
pub fn default_client_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    CONFIG.get_or_init(|| client_config(None).expect("the built-in roots are valid")).clone()
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read CA file {}: {e} (--ca)", path.display()))?;
    let pem: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&data).filter_map(Result::ok).collect();
    if !pem.is_empty() {
        return Ok(pem);
    }
    // Not PEM: one DER certificate.
    Ok(vec![CertificateDer::from(data)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_with_advice() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("ca.pem");
        std::fs::write(&f, "not a certificate\n").unwrap();
        let e = client_config(Some(&f)).unwrap_err();
        assert!(e.contains("no usable certificate"), "{e}");
        let e = client_config(Some(&dir.path().join("missing.pem"))).unwrap_err();
        assert!(e.contains("cannot read CA file"), "{e}");
    }

    #[test]
    fn built_in_roots_load() {
        assert!(client_config(None).is_ok());
    }
}
