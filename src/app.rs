//! Start-up: settings → keys → database → listener; then serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::EndpointExt;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::crypto::keyring_cell::KeyringCell;
use crate::crypto::password::PasswordHasher;
use crate::crypto::rotation::{KeySet, RotationPaths};
use crate::crypto::sealed::{SealingKey, SealingKeyError};
use crate::crypto::{Keyring, keyfile};
use crate::email::sender::OutboxSender;
use crate::email::templates::TemplateError;
use crate::email::transport::Mailer;
use crate::email::{Templates, transport};
use crate::http;
use crate::http::pages::Pages;
use crate::runtime::audit::{Actor, AuditEvent, AuditLog};
use crate::runtime::client_cache::ClientCache;
use crate::runtime::credential_cache::{self, CredentialCache};
use crate::runtime::monitoring::Monitor;
use crate::runtime::rate_limit::RateLimiter;
use crate::runtime::revocation_list;
use crate::runtime::shared_keys::{self, SharedKeys};
use crate::service::account::Account;
use crate::service::auth::external::{ExternalLogin, Upstreams};
use crate::service::auth::passkeys::relying_party::RelyingParty;
use crate::service::auth::{Auth, Sessions, Tokens};
use crate::service::directory::Directory;
use crate::service::keys::{KeyStore, KeyStoreError};
use crate::state::{AppState, HttpHandles};
use crate::store::Store;

/// How long in-flight requests may take to finish once shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Why the service could not start; each message is one line naming the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Key(#[from] keyfile::KeyError),
    /// A key of a rotation (or its record) that cannot be used; the text names the setting.
    #[error("{0}")]
    Rotation(String),
    #[error("AUTHIFY_DB_URL: cannot connect to the database: {0}")]
    Database(sea_orm::DbErr),
    #[error("AUTHIFY_DB_URL: applying migrations failed: {0}")]
    Migration(sea_orm::DbErr),
    /// A mail template (built in or from AUTHIFY_TEMPLATES_DIR) that does not parse.
    #[error("AUTHIFY_TEMPLATES_DIR: template {0}")]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Mail(#[from] transport::TransportError),
    #[error(transparent)]
    SealingKey(#[from] crate::crypto::sealed::SealingKeyError),
    /// The shared key store (AUTHIFY_KEY_STORE=database) cannot be used: a wrong key-encryption
    /// key, or a key that cannot be read.
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    #[error("AUTHIFY_DB_URL: cannot read the revocation list: {0}")]
    Revocations(crate::store::StoreError),
    #[error("AUTHIFY_REDIS_URL: {0}")]
    Redis(redis::RedisError),
    /// Passkey settings that were given but do not make a relying party.
    #[error("{0}")]
    Passkeys(String),
    #[error("AUTHIFY_LISTEN: cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// The WebAuthn relying party. Without passkey settings and with an IP address in
/// AUTHIFY_PUBLIC_URL passkeys are off (logged once); passkey settings that do not work stop start-up.
fn relying_party(settings: &Settings) -> Result<RelyingParty, StartupError> {
    let rp = RelyingParty::new(settings);
    if let Some(why) = rp.off_because() {
        let configured = settings.passkeys.passkey_rp_id.is_some() || settings.passkeys.passkey_origins.is_some();
        if configured {
            return Err(StartupError::Passkeys(why.to_owned()));
        }
        tracing::info!(why, "passkeys are off");
    }
    Ok(rp)
}

/// Connects to the database and applies migrations.
pub async fn open_store(settings: &Settings) -> Result<Store, StartupError> {
    let timeout = Duration::from_secs(settings.db_timeout_seconds);
    let store = Store::connect(&settings.db_url, settings.db_max_connections, timeout, settings.sqlite_fsync)
        .await
        .map_err(StartupError::Database)?;
    store.migrate().await.map_err(StartupError::Migration)?;
    Ok(store)
}

/// Loads the key pair, generating it first when neither file exists; says whether it generated.
pub fn load_keyring(settings: &Settings) -> Result<(Keyring, bool), StartupError> {
    let (keys, generated) = load_key_files(settings)?;
    Ok((keys.keyring(settings.token_lifetime()).map_err(StartupError::Rotation)?, generated))
}

/// Loads the pairs at the configured paths (with a file rotation's next and previous pairs),
/// generating the pair first when neither file exists; says whether it generated.
pub fn load_key_files(settings: &Settings) -> Result<(KeySet, bool), StartupError> {
    let (private, public) = (&settings.privkey_path, &settings.pubkey_path);
    let generate = keyfile::needs_generation(private, public)?;
    if generate {
        keyfile::generate_files(settings.jwt_algorithm, private, public)?;
        tracing::info!(
            algorithm = %settings.jwt_algorithm,
            private = %private.display(),
            public = %public.display(),
            "no key pair found: generated a new one (private key mode 0600)"
        );
    }
    let now = SystemClock.now();
    let keys = KeySet::load(settings.jwt_algorithm, &RotationPaths::new(private, public), now)
        .map_err(StartupError::Rotation)?;
    Ok((keys, generate))
}

/// The shared key store of `handles`' database, its private keys sealed with the key-encryption
/// key (the TOTP key `sealing` unless AUTHIFY_KEY_ENCRYPTION_KEY_PATH names another). An empty
/// store first gets the configured key files (generated when missing); says whether it generated.
pub async fn open_key_store(
    handles: &Handles,
    sealing: &Arc<SealingKey>,
) -> Result<(Arc<SharedKeys>, bool), StartupError> {
    let settings = &handles.settings;
    let path = settings.key_encryption_key_file();
    let kek = if let Some(key) = &settings.key_encryption_key {
        let setting = "AUTHIFY_KEY_ENCRYPTION_KEY";
        Arc::new(SealingKey::from_base64(key.expose()).ok_or(SealingKeyError::MalformedValue { setting })?)
    } else if path == settings.totp_key_file() {
        sealing.clone()
    } else {
        let (kek, generated) = SealingKey::load_or_generate_for(&path, "AUTHIFY_KEY_ENCRYPTION_KEY_PATH")?;
        if generated {
            tracing::info!(path = %path.display(), "no key-encryption key found: generated one (mode 0600)");
        }
        Arc::new(kek)
    };
    let keys = KeyStore { store: handles.directory.store.clone(), kek, settings: settings.clone() };
    let mut generated = false;
    if keys.is_empty().await? {
        let (files, made) = load_key_files(settings)?;
        generated = made;
        if keys.import_files(&files, handles.directory.now()).await? {
            let event = AuditEvent::new(Actor::System, "keys.import")
                .target(format!("kid:{}", crate::crypto::kid_of(&files.current)))
                .detail(serde_json::json!({"private_key": settings.privkey_path}));
            handles.directory.audit.record(event).await;
        }
    }
    let shared = SharedKeys::open(keys, handles.directory.clock.clone(), handles.directory.audit.clone()).await?;
    Ok((Arc::new(shared), generated))
}

/// Loads the key that seals TOTP secrets, generating it first when missing.
pub fn load_sealing_key(settings: &Settings) -> Result<SealingKey, StartupError> {
    let path = settings.totp_key_file();
    let (key, generated) = SealingKey::load_or_generate(&path)?;
    if generated {
        tracing::info!(path = %path.display(), "no TOTP encryption key found: generated one (mode 0600)");
    }
    Ok(key)
}

/// The handles that need no keys and serve no requests, built the same way by the service and by
/// the command line: the directory (store, clock, audit trail, credential cache) and the sessions
/// handle that ends sessions and revokes tokens. Starts the audit trail's writer.
pub struct Handles {
    pub settings: Arc<Settings>,
    pub directory: Directory,
    pub sessions: Sessions,
}

impl Handles {
    pub fn new(settings: Arc<Settings>, store: Store, clock: Arc<dyn Clock>) -> Self {
        let audit = AuditLog::start(store.clone(), clock.clone());
        let credentials = CredentialCache::new(settings.credential_cache_seconds, credential_cache::CAPACITY);
        let clients = Arc::new(ClientCache::new(settings.credential_cache_seconds));
        let directory = Directory::new(store.clone(), clock.clone(), audit.clone(), Arc::new(credentials), clients);
        let sessions = Sessions { store, clock, audit, settings: settings.clone(), revocations: Default::default() };
        Self { settings, directory, sessions }
    }

    /// Opens the database (applying migrations) and builds the handles on the system clock: the
    /// command line's start.
    pub async fn open(settings: &Settings) -> Result<Self, StartupError> {
        let store = open_store(settings).await?;
        Ok(Self::new(Arc::new(settings.clone()), store, Arc::new(SystemClock)))
    }

    /// Waits until what was recorded on the audit trail is written (the command line, before it exits).
    pub async fn finish(&self) {
        self.directory.audit.flush().await;
    }
}

/// A service that is bound to its port and ready to run.
pub struct Application {
    state: AppState,
    /// The shared key store's poller, when the keys live in the database.
    shared_keys: Option<Arc<SharedKeys>>,
    mailer: Arc<dyn Mailer>,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

impl Application {
    /// Builds the state and binds the listener (port 0 picks a free port; see [`Application::addr`]).
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let files = if settings.shared_keys() { None } else { Some(load_keyring(&settings)?) };
        let templates = Templates::load(settings.templates_dir.as_deref())?;
        let pages = Pages::load(settings.templates_dir.as_deref(), &settings.jwt_issuer)?;
        let mailer = transport::from_settings(&settings)?;
        let sealing = Arc::new(load_sealing_key(&settings)?);
        let limiter = match &settings.redis_url {
            Some(url) => RateLimiter::redis(url, &settings.redis_key_prefix).map_err(StartupError::Redis)?,
            None => RateLimiter::local(),
        };
        let store = open_store(&settings).await?;
        let listen = settings.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|source| StartupError::Listen { addr: listen, source })?;
        let addr = listener.local_addr().unwrap_or(listen);
        let hasher = PasswordHasher::new(settings.hash_concurrency(), settings.hash_queue())
            .with_wait_limit(settings.hash_wait_limit());
        let handles = Handles::new(Arc::new(settings), store, clock);
        let now = handles.directory.now();
        handles.sessions.revocations.poll(&handles.directory.store, now).await.map_err(StartupError::Revocations)?;
        let (keyring, shared_keys, generated) = match files {
            Some((keyring, generated)) => {
                let next_step = keyring.next_change(now);
                (Arc::new(KeyringCell::new(keyring, next_step)), None, generated)
            }
            None => {
                let (shared, generated) = open_key_store(&handles, &sealing).await?;
                (shared.cell.clone(), Some(shared), generated)
            }
        };
        let monitor = Monitor::new(http::route_templates());
        let limiter = Arc::new(limiter);
        let tokens = Tokens {
            keyring,
            settings: handles.settings.clone(),
            clock: handles.directory.clock.clone(),
            revocations: handles.sessions.revocations.clone(),
            monitor: monitor.clone(),
        };
        let auth = Auth {
            directory: handles.directory.clone(),
            tokens,
            sessions: handles.sessions.clone(),
            hasher,
            limiter: limiter.clone(),
            sealing,
            settings: handles.settings.clone(),
            passkeys: Arc::new(relying_party(&handles.settings)?),
        };
        let account = Account { auth: auth.clone(), templates: Arc::new(templates), outbox_wake: Default::default() };
        let upstreams =
            Upstreams::new(&handles.settings.external_login.oidc_providers, handles.directory.clock.clone());
        let external = ExternalLogin { auth: auth.clone(), upstreams: Arc::new(upstreams) };
        let state = AppState::new(HttpHandles {
            external,
            settings: handles.settings.clone(),
            store: handles.directory.store.clone(),
            audit: handles.directory.audit.clone(),
            directory: handles.directory,
            auth,
            account,
            limiter,
            monitor,
            pages: Arc::new(pages),
        });
        if generated {
            let keyring = state.auth.tokens.keyring.current();
            let event = AuditEvent::new(Actor::System, "keys.generate")
                .target(format!("kid:{}", keyring.kid(now)))
                .detail(serde_json::json!({"algorithm": keyring.signing_algorithm(now).name(), "at": "first start"}));
            state.audit.record(event).await;
        }
        Ok(Self { state, shared_keys, mailer: Arc::from(mailer), listener, addr })
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish (bounded) and closes the pool.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Application { state, shared_keys, mailer, listener, addr } = self;
        let hasher = state.auth.hasher.clone();
        tokio::spawn(async move {
            if let Err(err) = hasher.warm_up().await {
                tracing::warn!(error = %err, "could not precompute the dummy password hash");
            }
        });
        let store = state.store.clone();
        let (stop_sender, stop) = tokio::sync::oneshot::channel();
        let outbox = OutboxSender::new(
            store.clone(),
            mailer,
            state.directory.clock.clone(),
            state.account.outbox_wake.clone(),
            &state.settings,
        );
        let sender = tokio::spawn(outbox.run(stop));
        let (poller_stop, poller_stopped) = tokio::sync::oneshot::channel();
        let poller = tokio::spawn(revocation_list::run_poller(
            state.sessions().revocations.clone(),
            store.clone(),
            state.directory.clock.clone(),
            Duration::from_millis(state.settings.sessions.revocation_poll_ms),
            poller_stopped,
        ));
        let (keys_stop, keys_stopped) = tokio::sync::oneshot::channel();
        let keys_poller = shared_keys.map(|shared| {
            let period = Duration::from_millis(state.settings.key_poll_ms);
            tokio::spawn(shared_keys::run_poller(shared, period, keys_stopped))
        });
        let sender_abort = sender.abort_handle();
        let keyring = state.tokens().keyring.current();
        tracing::info!(%addr, algorithm = %keyring.signing_algorithm(state.now()), kid = keyring.kid(state.now()), "authify is listening");
        drop(keyring);
        let audit = state.audit.clone();
        let settings = &state.settings;
        let limits = http::server::ConnectionLimits {
            header_timeout: Duration::from_secs(settings.http_header_timeout_seconds),
            body_timeout: Duration::from_secs(settings.http_body_timeout_seconds),
            max_connections: settings.http_max_connections,
            max_header_bytes: settings.http_max_header_bytes,
        };
        let result = http::server::serve(
            listener,
            http::endpoint(state).map_to_response().boxed(),
            limits,
            shutdown,
            SHUTDOWN_GRACE,
        )
        .await;
        let _ = stop_sender.send(());
        let _ = poller_stop.send(());
        let _ = poller.await;
        let _ = keys_stop.send(());
        if let Some(keys_poller) = keys_poller {
            let _ = keys_poller.await;
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, sender).await.is_err() {
            sender_abort.abort();
            tracing::warn!("the outbox sender did not stop in time; mail it held is retried after its lease");
        }
        // Requests are done: write what they queued on the audit trail before the pool closes
        // (bounded, in case the database is what failed).
        if tokio::time::timeout(SHUTDOWN_GRACE, audit.flush()).await.is_err() {
            tracing::error!("audit events still queued at shutdown were lost");
        }
        if let Err(err) = store.close().await {
            tracing::warn!(error = %err, "closing the database pool failed");
        }
        result
    }
}
