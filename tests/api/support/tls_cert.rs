//! A self-signed certificate for 127.0.0.1 and localhost, made with OpenSSL for each test: the
//! PEM a client is told to trust, and the rustls server configuration that presents it.

use std::sync::Arc;

use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::{ExtendedKeyUsage, SubjectAlternativeName};
use openssl::x509::{X509, X509NameBuilder};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

pub struct SelfSigned {
    /// The certificate in PEM, to write where the client reads its trusted roots.
    pub pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

pub fn self_signed() -> SelfSigned {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
    let key = PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "Authify test SMTP sink").expect("CN");
    let name = name.build();
    let mut builder = X509::builder().expect("builder");
    builder.set_version(2).expect("v3");
    builder.set_serial_number(&BigNum::from_u32(1).expect("bn").to_asn1_integer().expect("serial")).expect("serial");
    builder.set_subject_name(&name).expect("subject");
    builder.set_issuer_name(&name).expect("issuer");
    builder.set_pubkey(&key).expect("pubkey");
    builder.set_not_before(&Asn1Time::days_from_now(0).expect("now")).expect("not before");
    builder.set_not_after(&Asn1Time::days_from_now(1).expect("tomorrow")).expect("not after");
    let names = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .dns("localhost")
        .build(&builder.x509v3_context(None, None))
        .expect("SAN");
    builder.append_extension(names).expect("SAN");
    builder.append_extension(ExtendedKeyUsage::new().server_auth().build().expect("EKU")).expect("EKU");
    builder.sign(&key, MessageDigest::sha256()).expect("sign");
    let certificate = builder.build();
    let chain = vec![CertificateDer::from(certificate.to_der().expect("der"))];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.private_key_to_pkcs8().expect("pkcs8")));
    let server = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
    SelfSigned { pem: String::from_utf8(certificate.to_pem().expect("pem")).expect("utf-8"), server: Arc::new(server) }
}
