//! Sign-in providers: any number, each named by the operator (`oauth.<name>.*` in the file,
//! `SIGRA_OAUTH_<NAME>_*` in the environment). Google, GitHub, Apple and Facebook know their
//! endpoints; `oidc` providers are found by discovery from their issuer, `oauth2` ones by
//! explicit endpoints and a map of their user-info fields. Endpoints must be https; a plain
//! http loopback endpoint is allowed only with `oauth.allow_http_loopback`, which production
//! refuses (it exists for local providers in development and tests).

use std::str::FromStr;
use std::time::Duration;

use url::Url;

use super::sources::{NamedSection, Reader, Setting};
use super::{Expected, SecretText};

#[rustfmt::skip]
pub(super) const SETTINGS: &[Setting] = &[
    Setting { key: "oauth.allow_http_loopback", aliases: &[] },
    Setting { key: "oauth.discovery_cache", aliases: &[] },
    Setting { key: "oauth.http_timeout", aliases: &[] },
];

/// The settings of one provider.
pub(super) const PROVIDERS: NamedSection = NamedSection {
    prefix: "oauth",
    fields: &[
        "kind",
        "client_id",
        "client_secret",
        "scopes",
        "display_name",
        "icon",
        "issuer",
        "authorize_url",
        "token_url",
        "userinfo_url",
        "emails_url",
        "team_id",
        "key_id",
        "private_key",
        "subject_field",
        "email_field",
        "email_verified_field",
        "name_field",
        "avatar_field",
        "trust_email",
        "response_mode",
    ],
};

/// Which protocol and quirks a provider has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// OpenID Connect at `https://accounts.google.com`.
    Google,
    /// OAuth 2; the address comes from `/user/emails`, trusted only when verified and primary.
    Github,
    /// OpenID Connect with a signed client secret, `form_post` answers and the name only on the
    /// first authorization.
    Apple,
    /// OAuth 2 with the Graph API; its email is never treated as verified.
    Facebook,
    /// Any OpenID Connect provider, by discovery from its issuer.
    Oidc,
    /// Any OAuth 2 provider, by explicit endpoints and a user-info map.
    Oauth2,
}

impl ProviderKind {
    const ALL: [Self; 6] = [
        Self::Google,
        Self::Github,
        Self::Apple,
        Self::Facebook,
        Self::Oidc,
        Self::Oauth2,
    ];

    /// The configured name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Github => "github",
            Self::Apple => "apple",
            Self::Facebook => "facebook",
            Self::Oidc => "oidc",
            Self::Oauth2 => "oauth2",
        }
    }

    /// Whether the provider speaks OpenID Connect (ID tokens, discovery).
    pub fn is_openid(self) -> bool {
        matches!(self, Self::Google | Self::Apple | Self::Oidc)
    }
}

impl FromStr for ProviderKind {
    type Err = Expected;

    fn from_str(text: &str) -> Result<Self, Expected> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or(Expected("google, github, apple, facebook, oidc or oauth2"))
    }
}

/// Where a provider's endpoints are.
#[derive(Clone, Debug)]
// One per provider, read once at start-up: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Endpoints {
    /// Discovered from `{issuer}/.well-known/openid-configuration`.
    Discovery {
        /// The issuer, compared exactly with the discovered one and every ID token's `iss`.
        issuer: Url,
    },
    /// Named in the configuration.
    Explicit {
        /// The authorization endpoint.
        authorize: Url,
        /// The token endpoint.
        token: Url,
        /// The user-info endpoint.
        userinfo: Url,
        /// GitHub's list of addresses with their `verified` and `primary` flags.
        emails: Option<Url>,
    },
}

/// Where the fields of a user-info answer are (generic OAuth 2).
#[derive(Clone, Debug)]
pub struct UserInfoMap {
    /// The stable user id (`sub`).
    pub subject: String,
    /// The address (`email`).
    pub email: String,
    /// Whether the provider verified the address (`email_verified`).
    pub email_verified: String,
    /// The display name (`name`).
    pub name: String,
    /// A picture URL (`picture`).
    pub avatar: String,
}

/// Apple's client secret is a short-lived ES256 JWT signed with a key from the developer
/// account, remade before it expires.
#[derive(Clone, Debug)]
pub struct AppleSigning {
    /// The developer team id (the JWT's `iss`).
    pub team_id: String,
    /// The key id (the JWT's `kid`).
    pub key_id: String,
    /// The `.p8` private key, PEM.
    pub private_key: SecretText,
}

/// One sign-in provider.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// The name in URLs (`/auth/<name>`), audit rows and the identity table.
    pub name: String,
    /// The protocol and quirks.
    pub kind: ProviderKind,
    /// The client id registered with the provider.
    pub client_id: String,
    /// The client secret (absent for Apple, whose secret is signed, see `apple`).
    pub client_secret: Option<SecretText>,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// The name on the button ("Sign in with …").
    pub display_name: String,
    /// An image path or URL for the button (served under this site, for the CSP).
    pub icon: Option<String>,
    /// The endpoints.
    pub endpoints: Endpoints,
    /// How to read a user-info answer (generic OAuth 2).
    pub userinfo: UserInfoMap,
    /// Apple's signing key.
    pub apple: Option<AppleSigning>,
    /// Whether an address the provider says is verified counts as confirmed here (never for
    /// Facebook).
    pub trust_email: bool,
    /// Whether the provider posts its answer (`response_mode=form_post`, always for Apple)
    /// instead of redirecting with it in the query.
    pub form_post: bool,
}

/// The sign-in provider settings.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    /// The configured providers, by name.
    pub providers: Vec<ProviderConfig>,
    /// Development and tests only: allow plain http endpoints on loopback addresses.
    pub allow_http_loopback: bool,
    /// How long discovered metadata and signing keys are used before they are fetched again
    /// (an unknown key id fetches them sooner).
    pub discovery_cache: Duration,
    /// The longest a request to a provider may take.
    pub http_timeout: Duration,
}

impl OAuthConfig {
    /// The provider called `name`, if configured.
    pub fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.name == name)
    }

    pub(super) fn read(r: &mut Reader, production: bool) -> Self {
        let allow_http_loopback = r.flag("oauth.allow_http_loopback", false);
        if production && allow_http_loopback {
            r.invalid(
                "oauth.allow_http_loopback",
                "must not be on in production (providers must be https)",
            );
        }
        let discovery_cache = r.duration("oauth.discovery_cache", "1h");
        let http_timeout = r.duration("oauth.http_timeout", "10s");
        let providers = r
            .names(PROVIDERS.prefix)
            .into_iter()
            .filter_map(|name| read_provider(r, &name, allow_http_loopback))
            .collect::<Vec<_>>();
        if !super::Capability::OAuth.compiled() {
            for provider in &providers {
                r.invalid(
                    &format!("oauth.{}.client_id", provider.name),
                    "configures a sign-in provider, but this build leaves out the `oauth` Cargo feature",
                );
            }
        }
        Self {
            providers,
            allow_http_loopback,
            discovery_cache,
            http_timeout,
        }
    }
}

fn read_provider(r: &mut Reader, name: &str, allow_http_loopback: bool) -> Option<ProviderConfig> {
    let key = |field: &str| format!("oauth.{name}.{field}");
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        r.invalid(
            &key("client_id"),
            format!("names the provider {name:?}: use lower-case letters, digits, - and _"),
        );
        return None;
    }
    let default_kind = name.parse::<ProviderKind>().ok().filter(|kind| {
        matches!(
            kind,
            ProviderKind::Google
                | ProviderKind::Github
                | ProviderKind::Apple
                | ProviderKind::Facebook
        )
    });
    let kind = match r.given(&key("kind")) {
        Some(_) => r.parse(&key("kind"), ProviderKind::Oidc),
        None => match default_kind {
            Some(kind) => kind,
            None => {
                r.invalid(
                    &key("kind"),
                    "is required for a provider not named google, github, apple or facebook (oidc or oauth2)",
                );
                return None;
            }
        },
    };
    let client_id = r.text(&key("client_id"), "");
    if client_id.is_empty() {
        r.invalid(&key("client_id"), "is required");
    }
    let secret = r.text(&key("client_secret"), "");
    let client_secret = (!secret.is_empty()).then_some(SecretText(secret));
    let apple = if kind == ProviderKind::Apple {
        read_apple(r, name)
    } else {
        None
    };
    if client_secret.is_none() && kind != ProviderKind::Apple {
        r.invalid(&key("client_secret"), "is required");
    }
    let mut url = |field: &str, default: Option<&str>| -> Option<Url> {
        let text = r.text(&key(field), default.unwrap_or(""));
        if text.is_empty() {
            r.invalid(
                &key(field),
                format!("is required for a {} provider", kind.as_str()),
            );
            return None;
        }
        match Url::parse(&text) {
            Ok(url) if is_allowed_endpoint(&url, allow_http_loopback) => Some(url),
            Ok(_) => {
                r.invalid(
                    &key(field),
                    format!("must be an https URL, got {text:?} (plain http is allowed only on loopback with SIGRA_OAUTH_ALLOW_HTTP_LOOPBACK outside production)"),
                );
                None
            }
            Err(_) => {
                r.invalid(
                    &key(field),
                    format!("should be an absolute URL, got {text:?}"),
                );
                None
            }
        }
    };
    let endpoints = match kind {
        ProviderKind::Google => Endpoints::Discovery {
            issuer: url("issuer", Some("https://accounts.google.com"))?,
        },
        ProviderKind::Apple => Endpoints::Discovery {
            issuer: url("issuer", Some("https://appleid.apple.com"))?,
        },
        ProviderKind::Oidc => Endpoints::Discovery {
            issuer: url("issuer", None)?,
        },
        ProviderKind::Github => Endpoints::Explicit {
            authorize: url(
                "authorize_url",
                Some("https://github.com/login/oauth/authorize"),
            )?,
            token: url(
                "token_url",
                Some("https://github.com/login/oauth/access_token"),
            )?,
            userinfo: url("userinfo_url", Some("https://api.github.com/user"))?,
            emails: Some(url(
                "emails_url",
                Some("https://api.github.com/user/emails"),
            )?),
        },
        ProviderKind::Facebook => Endpoints::Explicit {
            authorize: url(
                "authorize_url",
                Some("https://www.facebook.com/v19.0/dialog/oauth"),
            )?,
            token: url(
                "token_url",
                Some("https://graph.facebook.com/v19.0/oauth/access_token"),
            )?,
            userinfo: url(
                "userinfo_url",
                Some("https://graph.facebook.com/v19.0/me?fields=id,name,email,picture"),
            )?,
            emails: None,
        },
        ProviderKind::Oauth2 => Endpoints::Explicit {
            authorize: url("authorize_url", None)?,
            token: url("token_url", None)?,
            userinfo: url("userinfo_url", None)?,
            emails: None,
        },
    };
    let default_scopes = match kind {
        ProviderKind::Google | ProviderKind::Oidc => "openid email profile",
        ProviderKind::Apple => "openid name email",
        ProviderKind::Github => "read:user user:email",
        ProviderKind::Facebook => "email public_profile",
        ProviderKind::Oauth2 => "",
    };
    let scopes = r
        .text(&key("scopes"), default_scopes)
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let default_display = match kind {
        ProviderKind::Google => "Google",
        ProviderKind::Github => "GitHub",
        ProviderKind::Apple => "Apple",
        ProviderKind::Facebook => "Facebook",
        ProviderKind::Oidc | ProviderKind::Oauth2 => name,
    };
    let display_name = r.text(&key("display_name"), default_display);
    let icon = Some(r.text(&key("icon"), "")).filter(|icon| !icon.is_empty());
    let (default_subject, default_avatar) = match kind {
        ProviderKind::Github => ("id", "avatar_url"),
        ProviderKind::Facebook => ("id", "picture"),
        _ => ("sub", "picture"),
    };
    let userinfo = UserInfoMap {
        subject: r.text(&key("subject_field"), default_subject),
        email: r.text(&key("email_field"), "email"),
        email_verified: r.text(&key("email_verified_field"), "email_verified"),
        name: r.text(&key("name_field"), "name"),
        avatar: r.text(&key("avatar_field"), default_avatar),
    };
    let trust_email = r.flag(&key("trust_email"), true) && kind != ProviderKind::Facebook;
    let default_mode = if kind == ProviderKind::Apple {
        "form_post"
    } else {
        "query"
    };
    let form_post = match r.text(&key("response_mode"), default_mode).as_str() {
        "form_post" => true,
        "query" if kind != ProviderKind::Apple => false,
        other => {
            r.invalid(
                &key("response_mode"),
                format!("should be query or form_post (Apple: form_post), got {other:?}"),
            );
            false
        }
    };
    Some(ProviderConfig {
        name: name.to_owned(),
        kind,
        client_id,
        client_secret,
        scopes,
        display_name,
        icon,
        endpoints,
        userinfo,
        apple,
        trust_email,
        form_post,
    })
}

fn read_apple(r: &mut Reader, name: &str) -> Option<AppleSigning> {
    let key = |field: &str| format!("oauth.{name}.{field}");
    let team_id = r.text(&key("team_id"), "");
    let key_id = r.text(&key("key_id"), "");
    let private_key = r.text(&key("private_key"), "");
    for (field, value) in [
        ("team_id", &team_id),
        ("key_id", &key_id),
        ("private_key", &private_key),
    ] {
        if value.is_empty() {
            r.invalid(
                &key(field),
                "is required for Apple (from the developer account)",
            );
        }
    }
    if private_key.is_empty() {
        return None;
    }
    // Without the `oauth` feature the provider is refused as a whole (see `OAuthConfig::read`).
    #[cfg(feature = "oauth")]
    if jsonwebtoken::EncodingKey::from_ec_pem(private_key.as_bytes()).is_err() {
        r.invalid(
            &key("private_key"),
            "must be the ES256 private key (.p8, PEM) from the Apple developer account",
        );
        return None;
    }
    Some(AppleSigning {
        team_id,
        key_id,
        private_key: SecretText(private_key),
    })
}

/// https anywhere; http only on a loopback host, and only when allowed (also applied to the
/// endpoints a discovery document names).
pub(crate) fn is_allowed_endpoint(url: &Url, allow_http_loopback: bool) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => {
            allow_http_loopback
                && match url.host() {
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    Some(url::Host::Domain(domain)) => domain == "localhost",
                    None => false,
                }
        }
        _ => false,
    }
}

// A build without the `oauth` feature refuses every provider (tested in
// `server/tests/smallest.rs`); these read them.
#[cfg(all(test, feature = "oauth"))]
mod tests {
    use crate::config::tests::{env, production};
    use crate::config::{Config, ConfigFile};

    use super::*;

    #[test]
    fn providers_are_read_from_the_environment_and_the_file_with_their_defaults() {
        let file = ConfigFile::parse(
            "sigra.toml",
            "[oauth.corp]\nkind = \"oidc\"\nissuer = \"https://id.corp.example\"\nclient_id = \"rp\"\nclient_secret = \"s\"\n",
        )
        .expect("toml");
        let config = Config::from_sources(
            Some(&file),
            &env(&[
                ("SIGRA_OAUTH_GITHUB_CLIENT_ID", "gh-id"),
                ("SIGRA_OAUTH_GITHUB_CLIENT_SECRET", "gh-secret"),
                ("SIGRA_OAUTH_MY_IDP_KIND", "oauth2"),
                ("SIGRA_OAUTH_MY_IDP_CLIENT_ID", "x"),
                ("SIGRA_OAUTH_MY_IDP_CLIENT_SECRET", "y"),
                (
                    "SIGRA_OAUTH_MY_IDP_AUTHORIZE_URL",
                    "https://idp.example/authorize",
                ),
                ("SIGRA_OAUTH_MY_IDP_TOKEN_URL", "https://idp.example/token"),
                ("SIGRA_OAUTH_MY_IDP_USERINFO_URL", "https://idp.example/me"),
                ("SIGRA_OAUTH_MY_IDP_SUBJECT_FIELD", "user_id"),
            ]),
            None,
        )
        .expect("valid");
        let names: Vec<&str> = config
            .oauth
            .providers
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["corp", "github", "my_idp"]);
        let github = config.oauth.provider("github").expect("github");
        assert_eq!(github.kind, ProviderKind::Github);
        assert_eq!(github.display_name, "GitHub");
        assert_eq!(github.scopes, ["read:user", "user:email"]);
        let my_idp = config.oauth.provider("my_idp").expect("my_idp");
        assert_eq!(my_idp.userinfo.subject, "user_id");
        assert!(matches!(
            &config.oauth.provider("corp").expect("corp").endpoints,
            Endpoints::Discovery { issuer } if issuer.as_str() == "https://id.corp.example/"
        ));
        assert!(!format!("{config:?}").contains("gh-secret"));
    }

    #[test]
    fn bad_provider_settings_name_their_variable() {
        let err = Config::from_sources(
            None,
            &env(&[
                ("SIGRA_OAUTH_CORP_CLIENT_ID", "x"),
                ("SIGRA_OAUTH_GOOGLE_CLIENT_ID", "g"),
                ("SIGRA_OAUTH_GOOGLE_CLIENT_SECRET", "s"),
                ("SIGRA_OAUTH_GOOGLE_ISSUER", "http://127.0.0.1:9400"),
                ("SIGRA_OAUTH_APPLE_CLIENT_ID", "com.example"),
                ("SIGRA_OAUTH_APPLE_PRIVATE_KEY", "not a key"),
                ("SIGRA_OAUTH_GITHUB_CLIENTID", "typo"),
            ]),
            None,
        )
        .expect_err("invalid");
        let text = err.to_string();
        for expected in [
            "SIGRA_OAUTH_CORP_KIND is required",
            "SIGRA_OAUTH_GOOGLE_ISSUER must be an https URL",
            "SIGRA_OAUTH_APPLE_TEAM_ID is required",
            "SIGRA_OAUTH_APPLE_PRIVATE_KEY must be the ES256 private key",
            "unknown setting `SIGRA_OAUTH_GITHUB_CLIENTID`",
        ] {
            assert!(text.contains(expected), "{expected} in {text}");
        }
    }

    #[test]
    fn loopback_http_is_a_development_allowance_only() {
        let local = [
            ("SIGRA_OAUTH_ALLOW_HTTP_LOOPBACK", "true"),
            ("SIGRA_OAUTH_CORP_KIND", "oidc"),
            ("SIGRA_OAUTH_CORP_ISSUER", "http://127.0.0.1:9400"),
            ("SIGRA_OAUTH_CORP_CLIENT_ID", "rp"),
            ("SIGRA_OAUTH_CORP_CLIENT_SECRET", "s"),
        ];
        Config::from_sources(None, &env(&local), None).expect("development allows loopback");
        let remote = [("SIGRA_OAUTH_CORP_ISSUER", "http://id.corp.example")];
        let err = Config::from_sources(None, &env(&[&local[..], &remote[..]].concat()), None)
            .expect_err("only loopback");
        assert!(err.to_string().contains("SIGRA_OAUTH_CORP_ISSUER"), "{err}");
        let err = production(&local).expect_err("production refuses");
        assert!(
            err.to_string()
                .contains("SIGRA_OAUTH_ALLOW_HTTP_LOOPBACK must not be on"),
            "{err}"
        );
    }
}
