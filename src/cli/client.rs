//! `authify client add|list|remove|rotate-secret`: the relying parties of the OpenID Provider.

use clap::Subcommand;
use serde_json::{Value, json};

use super::rfc3339;
use crate::app::Handles;
use crate::config::Settings;
use crate::error::Error;
use crate::runtime::audit::Actor;
use crate::service::directory::clients::{self, ClientSpec, post_logout_redirect_uris, redirect_uris};
use crate::store::oauth_clients::OauthClient;

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints its client_id and, for a confidential client, its secret (only
    /// this once).
    Add {
        /// A unique name, shown to users on the sign-in and consent pages.
        name: String,
        /// Where the client receives codes; matched exactly. Repeat for several.
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Where the client may send the browser after logout. Repeat for several.
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// A scope the client may ask for itself with client_credentials. Repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// A client that cannot keep a secret (single-page or native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// Users are not asked to consent to this client.
        #[arg(long)]
        first_party: bool,
        /// Print `{"client_id": …, "client_secret": …}` and nothing else on stdout.
        #[arg(long)]
        json: bool,
    },
    /// List clients (never a secret).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a client: its secret stops working and every token issued to it is refused.
    Remove {
        /// A client_id may begin with '-' (it is base64url).
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Give a confidential client a new secret; the old one stops working at once.
    RotateSecret {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(settings: &Settings, command: ClientCommand) -> Result<(), String> {
    let handles = Handles::open(settings).await.map_err(|e| e.to_string())?;
    let result = run_with(&handles, command).await;
    handles.finish().await;
    result
}

async fn run_with(handles: &Handles, command: ClientCommand) -> Result<(), String> {
    let directory = &handles.directory;
    match command {
        ClientCommand::Add { name, redirect_uris, post_logout_redirect_uris, scopes, public, first_party, json } => {
            let spec = ClientSpec {
                name: name.clone(),
                redirect_uris,
                post_logout_redirect_uris,
                scopes,
                public,
                first_party,
            };
            let registered = clients::register(directory, spec, Actor::cli()).await.map_err(|e| describe(e, &name))?;
            let client_id = &registered.client.client_id;
            if json {
                println!("{}", json!({"client_id": client_id, "client_secret": registered.secret}));
            } else {
                println!("client_id:     {client_id}");
                match &registered.secret {
                    Some(secret) => {
                        println!("client_secret: {secret}");
                        println!("Store the secret now: it is not kept and cannot be shown again.");
                    }
                    None => println!("A public client: no secret; it must use PKCE (S256)."),
                }
            }
        }
        ClientCommand::List { json } => {
            let all = clients::list_clients(directory).await.map_err(|e| e.to_string())?;
            if json {
                println!("{}", Value::Array(all.iter().map(as_json).collect()));
            } else {
                print!("{}", table(&all));
            }
        }
        ClientCommand::Remove { client_id } => {
            clients::remove(directory, &handles.sessions, &client_id, Actor::cli())
                .await
                .map_err(|e| describe(e, &client_id))?;
            println!("removed client {client_id}");
        }
        ClientCommand::RotateSecret { client_id, json } => {
            let secret = clients::rotate_secret(directory, &handles.sessions, &client_id, Actor::cli())
                .await
                .map_err(|e| describe(e, &client_id))?;
            if json {
                println!("{}", json!({"client_id": client_id, "client_secret": secret}));
            } else {
                println!("client_secret: {secret}");
                println!("Store the secret now: it is not kept and cannot be shown again.");
            }
        }
    }
    Ok(())
}

fn describe(err: Error, name: &str) -> String {
    match err {
        Error::Taken { field: "name" } => format!("a client named {name} already exists"),
        Error::NotFound => format!("no client {name}"),
        other => other.to_string(),
    }
}

fn as_json(client: &OauthClient) -> Value {
    json!({
        "client_id": client.client_id,
        "name": client.name,
        "public": client.public,
        "first_party": client.first_party,
        "redirect_uris": redirect_uris(client).collect::<Vec<_>>(),
        "post_logout_redirect_uris": post_logout_redirect_uris(client).collect::<Vec<_>>(),
        "scopes": client.scopes.split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        "created_at": rfc3339(client.created_at),
    })
}

fn table(all: &[OauthClient]) -> String {
    let width = all.iter().map(|c| c.name.len()).max().unwrap_or(0).max("NAME".len());
    let mut out = format!("{:22}  {:width$}  {:12}  CREATED AT\n", "CLIENT ID", "NAME", "TYPE");
    for c in all {
        let kind = if c.public { "public" } else { "confidential" };
        out.push_str(&format!("{:22}  {:width$}  {kind:12}  {}\n", c.client_id, c.name, rfc3339(c.created_at)));
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::ClientCommand;
    use crate::cli::{Cli, Command};

    fn client(args: &[&str]) -> ClientCommand {
        let parsed = Cli::try_parse_from(["authify", "client"].iter().chain(args)).expect("parses");
        match parsed.command {
            Some(Command::Client(command)) => command,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_client_id_beginning_with_a_hyphen_is_an_argument() {
        assert!(matches!(client(&["remove", "-x8Qz"]), ClientCommand::Remove { client_id } if client_id == "-x8Qz"));
        assert!(matches!(
            client(&["rotate-secret", "-x8Qz", "--json"]),
            ClientCommand::RotateSecret { client_id, json: true } if client_id == "-x8Qz"
        ));
    }
}
