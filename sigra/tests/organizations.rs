//! Organizations on each engine: every rule of the service, checked on the rows and audit rows
//! it leaves, not only on what it returns.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sigra::auth::LogIn;
use sigra::clock::ManualClock;
use sigra::crypto::PresentedToken;
use sigra::error::{Error, OrganizationProblem};
use sigra::hooks::{HookError, LifecycleHooks};
use sigra::mail::{BoxFuture, EmailTemplates, Message, Recipient, RenderedEmail};
use sigra::organizations::{
    ActiveChoice, OrgAction, OrgAdmin, OrgMember, Organization, OrganizationChanges,
    OrganizationId, Role, SlugLookup,
};
use sigra::password::Password;
use sigra::request::RequestContext;
use sigra::sessions::{AccountOwner, Authenticated, SessionCheck, Sudo};
use sigra::testing::{self, Engine, TestDatabase};
use sigra::users::{Registration, UserId};
use sigra::Sigra;
use sqlx::AnyConnection;

const PASSWORD: &str = "correct horse battery staple 42";
const DAY: Duration = Duration::from_secs(24 * 3600);

/// Mail as JSON of the message, so a test can read the link out of it.
struct JsonTemplates;

impl EmailTemplates for JsonTemplates {
    fn render(&self, _app_name: &str, _to: Recipient<'_>, message: &Message) -> RenderedEmail {
        let text = serde_json::to_string(message).expect("a message encodes");
        RenderedEmail {
            subject: message.name().to_owned(),
            html: text.clone(),
            text,
        }
    }
}

struct Env {
    sigra: Sigra,
    clock: ManualClock,
    request: RequestContext,
}

/// Runs `test` on every available engine, with `hooks` when given.
async fn on_each_engine<F, Fut>(hooks: Option<Arc<dyn LifecycleHooks>>, test: F)
where
    F: Fn(Env) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    on_each_engine_with(&[], &[], hooks, test).await;
}

/// [`on_each_engine`] with some settings changed (as `SIGRA_*` variables) and the host's own
/// roles.
async fn on_each_engine_with<F, Fut>(
    settings: &[(&str, &str)],
    roles: &[Role],
    hooks: Option<Arc<dyn LifecycleHooks>>,
    test: F,
) where
    F: Fn(Env) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for engine in Engine::available() {
        eprintln!("on {engine:?}");
        let database = TestDatabase::create(engine).await;
        let clock = ManualClock::starting_now();
        let config = testing::config_with(database.url(), settings);
        let mut builder = Sigra::builder(config, Arc::new(JsonTemplates))
            .clock(Arc::new(clock.clone()))
            .organization_roles(roles);
        if let Some(hooks) = &hooks {
            builder = builder.hooks(Arc::clone(hooks));
        }
        let sigra = builder.start().await.expect("the core starts");
        let db = sigra.db().clone();
        test(Env {
            sigra,
            clock,
            request: RequestContext::new(None, Some("test"), None),
        })
        .await;
        // Connections of rolled-back changes go back to the pool (and roll back) on a task of
        // this runtime; the schema is dropped only once they have.
        db.close().await;
        drop(database);
    }
}

impl Env {
    /// Registers `email` and logs in: the session proof.
    async fn sign_up(&self, email: &str) -> Authenticated {
        self.sigra
            .auth()
            .register(
                Registration {
                    email: email.to_owned(),
                    password: Password::new(PASSWORD.to_owned()),
                },
                &self.request,
            )
            .await
            .expect("registered");
        self.log_in(email).await
    }

    /// A new session for `email`.
    async fn log_in(&self, email: &str) -> Authenticated {
        let session = self
            .sigra
            .auth()
            .log_in(
                LogIn {
                    email: email.to_owned(),
                    password: Password::new(PASSWORD.to_owned()),
                    remember_me: false,
                    trusted_browser: None,
                },
                None,
                &self.request,
            )
            .await
            .expect("logged in");
        self.session(session.token.expose()).await
    }

    async fn session(&self, token: &str) -> Authenticated {
        let token = PresentedToken::parse(token).expect("a token");
        match self.sigra.sessions().authenticate_session(&token).await {
            Ok(SessionCheck::Active(current, _)) => current,
            other => panic!("not an active session: {other:?}"),
        }
    }

    /// The owner proof for `current`'s session (never an impersonation here).
    async fn owner(&self, current: &Authenticated) -> AccountOwner {
        self.sigra
            .sessions()
            .account_owner(current, "test", &self.request)
            .await
            .expect("own session")
    }

    /// The password re-entered on `current`'s session: the sudo proof (and the session as it
    /// is now, with its new token).
    async fn sudo(&self, current: &Authenticated) -> Sudo {
        let renewed = self
            .sigra
            .sessions()
            .enter_sudo(
                &self.owner(current).await,
                Password::new(PASSWORD.to_owned()),
                &self.request,
            )
            .await
            .expect("sudo");
        let current = self.session(renewed.token.expose()).await;
        self.sigra.sessions().sudo(&current).expect("fresh sudo")
    }

    async fn create(&self, current: &Authenticated, name: &str) -> OrgMember {
        self.sigra
            .organizations()
            .create(current, name, &self.request)
            .await
            .expect("created")
    }

    async fn member(&self, current: &Authenticated, org: &Organization) -> OrgMember {
        self.sigra
            .organizations()
            .member_by_id(current, &org.id)
            .await
            .expect("a member")
    }

    async fn admin(&self, current: &Authenticated, org: &Organization) -> OrgAdmin {
        self.member(current, org).await.admin().expect("an admin")
    }

    /// `owner` adds `current`'s user with `role`.
    async fn add(&self, owner: &OrgAdmin, current: &Authenticated, role: Role) {
        self.sigra
            .organizations()
            .add_member(owner, &current.user().id, role, &self.request)
            .await
            .expect("added");
    }

    async fn invite(&self, admin: &OrgAdmin, email: &str, role: Role) -> String {
        self.sigra
            .organizations()
            .invite(admin, email, role, &self.request)
            .await
            .expect("invited");
        self.invitation_token(email).await
    }

    /// The token in the newest invitation mailed to `email`.
    async fn invitation_token(&self, email: &str) -> String {
        self.sigra
            .jobs()
            .run_due_jobs("test")
            .await
            .expect("jobs run");
        let mail = self
            .sigra
            .dev_mailbox()
            .expect("the development mailbox")
            .list(Some(email))
            .await
            .expect("mailbox");
        let newest = mail.first().expect("a mail");
        let (_, rest) = newest
            .text
            .split_once("/invitations/")
            .expect("an invitation link");
        rest[..43].to_owned()
    }

    /// An authenticator app for `current`'s user, arranged as a row.
    async fn give_second_factor(&self, current: &Authenticated) {
        sqlx::query(
            "INSERT INTO user_totp (user_id, secret_sealed, key_id, confirmed_at, created_at) \
             VALUES ($1, 'sealed', 'k1', 1, 1)",
        )
        .bind(current.user().id.as_str())
        .execute(self.sigra.db().pool())
        .await
        .expect("an authenticator app");
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.sigra.db().pool())
            .await
            .expect("a count")
    }

    /// The first column of the first row, if there is a row and the value is not NULL.
    async fn text(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar::<_, Option<String>>(sql)
            .fetch_optional(self.sigra.db().pool())
            .await
            .expect("a value")
            .flatten()
    }

    async fn role_of(&self, org: &Organization, user: &UserId) -> Option<String> {
        self.text(&format!(
            "SELECT role FROM organization_memberships WHERE organization_id = '{}' AND user_id = '{}'",
            org.id, user
        ))
        .await
    }

    async fn owners(&self, org: &Organization) -> i64 {
        self.count(&format!(
            "SELECT COUNT(*) FROM organization_memberships WHERE organization_id = '{}' AND role = 'owner'",
            org.id
        ))
        .await
    }

    /// The audit rows of `action`, oldest first: (actor, target, metadata).
    async fn audit(
        &self,
        action: &str,
    ) -> Vec<(Option<String>, Option<String>, serde_json::Value)> {
        let rows: Vec<(Option<String>, Option<String>, String)> = sqlx::query_as(
            "SELECT actor_id, target_id, metadata FROM audit_events WHERE action = $1 ORDER BY occurred_at, id",
        )
        .bind(action)
        .fetch_all(self.sigra.db().pool())
        .await
        .expect("audit rows");
        rows.into_iter()
            .map(|(actor, target, meta)| {
                (actor, target, serde_json::from_str(&meta).expect("json"))
            })
            .collect()
    }
}

fn problem<T: std::fmt::Debug>(result: Result<T, Error>) -> OrganizationProblem {
    match result {
        Err(Error::Organization(problem)) => problem,
        other => panic!("expected an organization problem, got {other:?}"),
    }
}

fn not_found<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(
        matches!(result, Err(Error::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

// ---- organizations ----

#[tokio::test]
async fn creating_an_organization_makes_its_creator_the_owner_in_the_same_change() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let member = env.create(&ada, "  Acme Labs ").await;
        let org = member.organization().clone();
        assert_eq!(org.name, "Acme Labs");
        assert_eq!(org.slug.as_str(), "acme-labs");
        assert_eq!(member.role(), Role::OWNER);
        assert_eq!(
            env.role_of(&org, &ada.user().id).await.as_deref(),
            Some("owner")
        );
        let audit = env.audit("organization.create").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].0.as_deref(), Some(ada.user().id.as_str()));
        assert_eq!(audit[0].1.as_deref(), Some(org.id.as_str()));
        assert_eq!(audit[0].2["slug"], "acme-labs");
        let listed = env
            .sigra
            .organizations()
            .list_for_user(&ada)
            .await
            .expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].organization, org);
        assert_eq!(listed[0].role, Role::OWNER);
        assert!(matches!(
            problem(
                env.sigra
                    .organizations()
                    .create(&ada, "  ", &env.request)
                    .await
            ),
            OrganizationProblem::NameRequired
        ));
    })
    .await;
}

#[tokio::test]
async fn slugs_come_from_the_name_and_count_up_when_taken_or_reserved() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bea = env.sign_up("bea@example.com").await;
        let first = env.create(&ada, "Acme").await;
        let second = env.create(&bea, "ACME").await;
        let reserved = env.create(&bea, "Admin").await;
        assert_eq!(first.organization().slug.as_str(), "acme");
        assert_eq!(second.organization().slug.as_str(), "acme-2");
        assert_eq!(reserved.organization().slug.as_str(), "admin-2");
    })
    .await;
}

#[tokio::test]
async fn a_non_member_gets_the_same_answer_as_for_a_missing_organization() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let eve = env.sign_up("eve@example.com").await;
        let org = env.create(&ada, "Acme").await.organization().clone();
        let orgs = env.sigra.organizations();
        not_found(orgs.member_by_slug(&eve, "acme").await);
        not_found(orgs.member_by_slug(&eve, "nothing-here").await);
        not_found(orgs.member_by_slug(&eve, "../acme").await);
        not_found(orgs.member_by_id(&eve, &org.id).await);
        not_found(
            orgs.member_by_id(&eve, &OrganizationId::from_client("missing"))
                .await,
        );
        assert!(orgs.list_for_user(&eve).await.expect("list").is_empty());
        assert!(matches!(
            orgs.member_by_slug(&ada, "acme").await,
            Ok(SlugLookup::Member(member)) if member.organization().id == org.id
        ));
    })
    .await;
}

#[tokio::test]
async fn members_may_only_look_and_admins_may_not_change_slug_or_delete() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let cid = env.sign_up("cid@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        env.add(&owner, &bob, Role::MEMBER).await;
        env.add(&owner, &cid, Role::ADMIN).await;
        let member = env.member(&bob, &org).await;
        assert!(matches!(
            problem(member.admin()),
            OrganizationProblem::NotAllowed
        ));
        assert_eq!(
            env.sigra
                .organizations()
                .members(&member)
                .await
                .expect("members")
                .len(),
            3
        );
        let admin = env.admin(&cid, &org).await;
        env.give_second_factor(&cid).await;
        let sudo = env.sudo(&cid).await;
        let orgs = env.sigra.organizations();
        assert!(matches!(
            problem(
                orgs.change_slug(&admin, &sudo, "acme-new", "acme", &env.request)
                    .await
            ),
            OrganizationProblem::NotAllowed
        ));
        assert!(matches!(
            problem(orgs.delete(&admin, &sudo, "Acme", &env.request).await),
            OrganizationProblem::NotAllowed
        ));
        let renamed = orgs
            .update(
                &admin,
                OrganizationChanges {
                    name: Some("Acme Labs".to_owned()),
                    members_need_second_factor: Some(true),
                },
                &env.request,
            )
            .await
            .expect("an admin updates settings");
        assert_eq!(renamed.name, "Acme Labs");
        assert_eq!(
            env.text(&format!(
                "SELECT slug FROM organizations WHERE id = '{}' AND deleted_at IS NULL",
                org.id
            ))
            .await
            .as_deref(),
            Some("acme"),
            "neither the slug change nor the deletion happened"
        );
        assert_eq!(
            env.count(&format!(
                "SELECT members_need_second_factor FROM organizations WHERE id = '{}'",
                org.id
            ))
            .await,
            1
        );
        let update = env.audit("organization.update").await;
        assert_eq!(update.len(), 1);
        assert_eq!(update[0].2["name"], "Acme Labs");
        assert_eq!(update[0].2["members_need_second_factor"], true);
        assert!(env.audit("organization.slug_change").await.is_empty());
        assert!(env.audit("organization.delete").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_changed_slug_redirects_members_for_seven_days_then_is_free() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let eve = env.sign_up("eve@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let sudo = env.sudo(&ada).await;
        let orgs = env.sigra.organizations();
        assert!(matches!(
            problem(
                orgs.change_slug(&owner, &sudo, "acme-labs", "acm", &env.request)
                    .await
            ),
            OrganizationProblem::ConfirmationMismatch
        ));
        assert!(matches!(
            problem(
                orgs.change_slug(&owner, &sudo, "settings", "acme", &env.request)
                    .await
            ),
            OrganizationProblem::SlugReserved
        ));
        let eve_sudo = env.sudo(&eve).await;
        assert!(matches!(
            orgs.change_slug(&owner, &eve_sudo, "acme-labs", "acme", &env.request)
                .await,
            Err(Error::SudoRequired)
        ));
        let moved = orgs
            .change_slug(&owner, &sudo, "acme-labs", "acme", &env.request)
            .await
            .expect("the slug changes");
        assert_eq!(moved.slug.as_str(), "acme-labs");
        assert!(matches!(
            orgs.member_by_slug(&ada, "acme").await,
            Ok(SlugLookup::Moved(slug)) if slug.as_str() == "acme-labs"
        ));
        not_found(orgs.member_by_slug(&eve, "acme").await);
        let taken = env.create(&eve, "Acme").await;
        assert_eq!(
            taken.organization().slug.as_str(),
            "acme-2",
            "nobody else takes a slug while it redirects"
        );
        let audit = env.audit("organization.slug_change").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].2["from"], "acme");
        assert_eq!(audit[0].2["to"], "acme-labs");

        env.clock.advance(7 * DAY + Duration::from_millis(1));
        not_found(orgs.member_by_slug(&ada, "acme").await);
        let later = env.create(&eve, "Acme").await;
        assert_eq!(
            later.organization().slug.as_str(),
            "acme",
            "the old slug is free again"
        );
    })
    .await;
}

#[tokio::test]
async fn deleting_needs_the_name_typed_back_and_frees_the_slug() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        env.add(&owner, &bob, Role::MEMBER).await;
        env.invite(&owner, "cid@example.com", Role::MEMBER).await;
        let sudo = env.sudo(&ada).await;
        let orgs = env.sigra.organizations();
        assert!(matches!(
            problem(orgs.delete(&owner, &sudo, "acme", &env.request).await),
            OrganizationProblem::ConfirmationMismatch
        ));
        let live = format!(
            "SELECT COUNT(*) FROM organizations WHERE id = '{}' AND deleted_at IS NULL",
            org.id
        );
        assert_eq!(env.count(&live).await, 1);
        orgs.delete(&owner, &sudo, "Acme", &env.request)
            .await
            .expect("deleted");
        assert_eq!(env.count(&live).await, 0);
        assert_eq!(
            env.count("SELECT COUNT(*) FROM organization_invitations WHERE revoked_at IS NULL")
                .await,
            0,
            "its pending invitations are revoked"
        );
        not_found(orgs.member_by_slug(&bob, "acme").await);
        not_found(orgs.member_by_id(&ada, &org.id).await);
        assert!(orgs.list_for_user(&bob).await.expect("list").is_empty());
        let audit = env.audit("organization.delete").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].1.as_deref(), Some(org.id.as_str()));
        assert_eq!(audit[0].2["invitations_revoked"], 1);
        let again = env.create(&bob, "Acme").await;
        assert_eq!(again.organization().slug.as_str(), "acme");
    })
    .await;
}

#[tokio::test]
async fn with_personal_organizations_every_new_account_owns_one_and_the_backfill_covers_the_rest() {
    on_each_engine_with(&[("SIGRA_ORGANIZATIONS_PERSONAL", "true")], &[], None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let orgs = env.sigra.organizations();
        let listed = orgs.list_for_user(&ada).await.expect("list");
        assert_eq!(listed.len(), 1);
        let personal = &listed[0].organization;
        assert!(personal.personal);
        assert_eq!(personal.name, "ada");
        assert_eq!(personal.slug.as_str(), "ada");
        assert_eq!(listed[0].role, Role::OWNER);
        let created = env.audit("organization.create").await;
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].0.as_deref(), Some(ada.user().id.as_str()));
        assert_eq!(created[0].2["personal"], true);

        let owner = env.member(&ada, personal).await.admin().expect("owner");
        let token = env.invite(&owner, "bea@example.com", Role::MEMBER).await;
        orgs.accept_with_sign_up(&presented(&token), Password::new(PASSWORD.to_owned()), &env.request)
            .await
            .expect("signed up through the invitation");
        let personal_count = "SELECT COUNT(*) FROM organizations WHERE personal = 1";
        assert_eq!(env.count(personal_count).await, 2, "bea got one too");

        for n in 0..3 {
            sqlx::query(
                "INSERT INTO users (id, email, created_at, updated_at) VALUES ($1, $2, 0, 0)",
            )
            .bind(format!("00000000-0000-7000-8000-00000000000{n}"))
            .bind(format!("old{n}@example.com"))
            .execute(env.sigra.db().pool())
            .await
            .expect("an account from before the setting");
        }
        assert_eq!(orgs.backfill_personal(&env.request).await.expect("backfill"), 3);
        assert_eq!(env.count(personal_count).await, 5);
        assert_eq!(orgs.backfill_personal(&env.request).await.expect("again"), 0);
        assert_eq!(
            env.count("SELECT COUNT(*) FROM audit_events WHERE action = 'organization.create' AND actor_type = 'system'")
                .await,
            3
        );
    })
    .await;
}

/// A host's role: may rename the organization, nothing else that changes it.
const BILLING: Role = Role::custom(
    "billing",
    &[
        OrgAction::ViewOrganization,
        OrgAction::ViewMembers,
        OrgAction::UpdateSettings,
    ],
);

#[tokio::test]
async fn host_roles_grant_what_their_table_row_says_and_unknown_roles_grant_nothing() {
    on_each_engine_with(&[], &[BILLING], None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let cid = env.sign_up("cid@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        let orgs = env.sigra.organizations();
        assert_eq!(orgs.role("billing").expect("registered"), BILLING);
        env.add(&owner, &bob, BILLING).await;
        env.add(&owner, &cid, Role::MEMBER).await;
        let billing = env.admin(&bob, &org).await;
        orgs.update(
            &billing,
            OrganizationChanges {
                name: Some("Acme Inc".to_owned()),
                ..OrganizationChanges::default()
            },
            &env.request,
        )
        .await
        .expect("billing renames");
        assert!(matches!(
            problem(
                orgs.invite(&billing, "dan@example.com", Role::MEMBER, &env.request)
                    .await
            ),
            OrganizationProblem::NotAllowed
        ));
        assert!(matches!(
            problem(
                orgs.remove_member(&billing, &cid.user().id, &env.request)
                    .await
            ),
            OrganizationProblem::NotAllowed
        ));
        let unregistered = Role::custom("auditor", &[OrgAction::ViewOrganization]);
        assert!(matches!(
            problem(
                orgs.change_role(&owner, &cid.user().id, unregistered, &env.request)
                    .await
            ),
            OrganizationProblem::UnknownRole
        ));

        sqlx::query("UPDATE organization_memberships SET role = 'auditor' WHERE user_id = $1")
            .bind(cid.user().id.as_str())
            .execute(env.sigra.db().pool())
            .await
            .expect("a role this build does not know");
        not_found(orgs.member_by_id(&cid, &org.id).await);
        assert!(orgs.list_for_user(&cid).await.expect("list").is_empty());
    })
    .await;
}

// ---- members and the last owner ----

#[tokio::test]
async fn the_last_owner_can_never_be_removed_or_demoted() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        let orgs = env.sigra.organizations();
        assert!(matches!(
            problem(
                orgs.change_role(&owner, &ada.user().id, Role::ADMIN, &env.request)
                    .await
            ),
            OrganizationProblem::LastOwner
        ));
        assert!(matches!(
            problem(
                orgs.remove_member(&owner, &ada.user().id, &env.request)
                    .await
            ),
            OrganizationProblem::LastOwner
        ));
        assert_eq!(env.owners(&org).await, 1);
        assert!(env
            .audit("organization.member_role_change")
            .await
            .is_empty());
        assert!(env.audit("organization.member_remove").await.is_empty());

        env.add(&owner, &bob, Role::OWNER).await;
        orgs.change_role(&owner, &ada.user().id, Role::MEMBER, &env.request)
            .await
            .expect("another owner remains");
        assert_eq!(
            env.role_of(&org, &ada.user().id).await.as_deref(),
            Some("member")
        );
        let audit = env.audit("organization.member_role_change").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].1.as_deref(), Some(ada.user().id.as_str()));
        assert_eq!(audit[0].2["from"], "owner");
        assert_eq!(audit[0].2["to"], "member");
    })
    .await;
}

#[tokio::test]
async fn members_leave_by_themselves_but_the_last_owner_cannot() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        env.add(&owner, &bob, Role::MEMBER).await;
        let orgs = env.sigra.organizations();
        let ada_member = env.member(&ada, &org).await;
        assert!(matches!(
            problem(orgs.leave(&ada_member, &env.request).await),
            OrganizationProblem::LastOwner
        ));
        let bob_member = env.member(&bob, &org).await;
        orgs.switch_to(&bob_member, &env.request)
            .await
            .expect("switched");
        orgs.leave(&bob_member, &env.request).await.expect("left");
        assert_eq!(env.role_of(&org, &bob.user().id).await, None);
        assert_eq!(
            env.role_of(&org, &ada.user().id).await.as_deref(),
            Some("owner")
        );
        not_found(orgs.leave(&bob_member, &env.request).await);
        let removed = env.audit("organization.member_remove").await;
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].0.as_deref(), Some(bob.user().id.as_str()));
        assert_eq!(removed[0].1.as_deref(), Some(bob.user().id.as_str()));
        assert_eq!(removed[0].2["sessions_cleared"], 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_owners_demoting_each_other_at_once_leave_one_owner() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        for round in 0..5 {
            let owner = env
                .create(&ada, &format!("Race {round}"))
                .await
                .admin()
                .expect("owner");
            let org = owner.organization().clone();
            env.add(&owner, &bob, Role::OWNER).await;
            let bob_owner = env.admin(&bob, &org).await;
            let (ada_id, bob_id) = (ada.user().id.clone(), bob.user().id.clone());
            let demote = |admin: OrgAdmin, target: UserId| {
                let sigra = env.sigra.clone();
                let request = env.request.clone();
                tokio::spawn(async move {
                    sigra
                        .organizations()
                        .change_role(&admin, &target, Role::MEMBER, &request)
                        .await
                })
            };
            let (first, second) = tokio::join!(demote(owner, bob_id), demote(bob_owner, ada_id));
            let results = [first.expect("joined"), second.expect("joined")];
            assert_eq!(
                results.iter().filter(|r| r.is_ok()).count(),
                1,
                "round {round}: exactly one demotion wins: {results:?}"
            );
            assert_eq!(env.owners(&org).await, 1, "round {round}");
        }
        assert_eq!(env.audit("organization.member_role_change").await.len(), 5);
    })
    .await;
}

#[tokio::test]
async fn removing_a_member_clears_their_sessions_active_organization() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        env.add(&owner, &bob, Role::MEMBER).await;
        sqlx::query("UPDATE user_sessions SET active_organization_id = $1")
            .bind(org.id.as_str())
            .execute(env.sigra.db().pool())
            .await
            .expect("both sessions work in the organization");
        env.sigra
            .organizations()
            .remove_member(&owner, &bob.user().id, &env.request)
            .await
            .expect("removed");
        let active = |session: &Authenticated| {
            format!(
                "SELECT active_organization_id FROM user_sessions WHERE id = '{}'",
                session.session().id
            )
        };
        assert_eq!(env.text(&active(&bob)).await, None);
        assert_eq!(
            env.text(&active(&ada)).await.as_deref(),
            Some(org.id.as_str()),
            "other members' sessions keep it"
        );
        assert_eq!(env.role_of(&org, &bob.user().id).await, None);
        not_found(env.sigra.organizations().member_by_id(&bob, &org.id).await);
        let audit = env.audit("organization.member_remove").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].1.as_deref(), Some(bob.user().id.as_str()));
        assert_eq!(audit[0].2["sessions_cleared"], 1);
    })
    .await;
}

#[tokio::test]
async fn admins_manage_members_but_not_owners() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let cid = env.sign_up("cid@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        env.add(&owner, &cid, Role::ADMIN).await;
        let admin = env.admin(&cid, &org).await;
        let orgs = env.sigra.organizations();
        assert!(matches!(
            problem(
                orgs.add_member(&admin, &bob.user().id, Role::OWNER, &env.request)
                    .await
            ),
            OrganizationProblem::NotAllowed
        ));
        env.add(&admin, &bob, Role::MEMBER).await;
        assert!(matches!(
            problem(
                orgs.change_role(&admin, &bob.user().id, Role::OWNER, &env.request)
                    .await
            ),
            OrganizationProblem::NotAllowed
        ));
        assert!(matches!(
            problem(
                orgs.change_role(&admin, &ada.user().id, Role::MEMBER, &env.request)
                    .await
            ),
            OrganizationProblem::NotAllowed
        ));
        assert!(matches!(
            problem(
                orgs.remove_member(&admin, &ada.user().id, &env.request)
                    .await
            ),
            OrganizationProblem::NotAllowed
        ));
        assert!(matches!(
            problem(
                orgs.add_member(&admin, &bob.user().id, Role::MEMBER, &env.request)
                    .await
            ),
            OrganizationProblem::AlreadyMember
        ));
        orgs.change_role(&admin, &bob.user().id, Role::ADMIN, &env.request)
            .await
            .expect("an admin promotes a member to admin");
        assert_eq!(
            env.role_of(&org, &ada.user().id).await.as_deref(),
            Some("owner")
        );
        assert_eq!(
            env.role_of(&org, &bob.user().id).await.as_deref(),
            Some("admin")
        );
        let added = env.audit("organization.member_add").await;
        assert_eq!(added.len(), 2, "cid and bob, not the refused attempts");
        assert_eq!(added[1].0.as_deref(), Some(cid.user().id.as_str()));
        assert_eq!(added[1].1.as_deref(), Some(bob.user().id.as_str()));
        assert_eq!(added[1].2["via"], "direct");
    })
    .await;
}

#[tokio::test]
async fn a_proof_made_before_a_demotion_stops_working_after_it() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let cid = env.sign_up("cid@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        env.add(&owner, &bob, Role::MEMBER).await;
        env.add(&owner, &cid, Role::ADMIN).await;
        let stale = env.admin(&cid, &org).await;
        let orgs = env.sigra.organizations();
        orgs.change_role(&owner, &cid.user().id, Role::MEMBER, &env.request)
            .await
            .expect("demoted");
        assert!(matches!(
            problem(
                orgs.remove_member(&stale, &bob.user().id, &env.request)
                    .await
            ),
            OrganizationProblem::NotAllowed
        ));
        assert_eq!(
            env.role_of(&org, &bob.user().id).await.as_deref(),
            Some("member")
        );
        orgs.remove_member(&owner, &cid.user().id, &env.request)
            .await
            .expect("removed");
        not_found(
            orgs.invite(&stale, "dan@example.com", Role::MEMBER, &env.request)
                .await,
        );
        assert_eq!(
            env.count("SELECT COUNT(*) FROM organization_invitations")
                .await,
            0
        );
    })
    .await;
}

// ---- the active organization ----

#[tokio::test]
async fn the_active_organization_is_a_membership_checked_on_every_read() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        env.add(&owner, &bob, Role::MEMBER).await;
        let orgs = env.sigra.organizations();
        assert!(orgs.active(&bob).await.expect("active").is_none());
        let member = env.member(&bob, &org).await;
        orgs.switch_to(&member, &env.request)
            .await
            .expect("switched");
        let stored = format!(
            "SELECT active_organization_id FROM user_sessions WHERE id = '{}'",
            bob.session().id
        );
        assert_eq!(env.text(&stored).await.as_deref(), Some(org.id.as_str()));
        let active = orgs.active(&bob).await.expect("active").expect("one");
        assert_eq!(active.organization().id, org.id);
        assert_eq!(active.role(), Role::MEMBER);

        orgs.remove_member(&owner, &bob.user().id, &env.request)
            .await
            .expect("removed");
        assert_eq!(env.text(&stored).await, None);
        sqlx::query("UPDATE user_sessions SET active_organization_id = $1")
            .bind(org.id.as_str())
            .execute(env.sigra.db().pool())
            .await
            .expect("a row naming it anyway");
        assert!(
            orgs.active(&bob).await.expect("active").is_none(),
            "a session naming an organization its user left gets nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn at_log_in_the_active_organization_is_none_the_only_one_or_the_last_used_else_a_pick() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let orgs = env.sigra.organizations();
        assert!(matches!(
            orgs.choose_at_log_in(&ada, &env.request).await,
            Ok(ActiveChoice::NoOrganization)
        ));
        let acme = env.create(&ada, "Acme").await.organization().clone();
        assert!(matches!(
            orgs.choose_at_log_in(&ada, &env.request).await,
            Ok(ActiveChoice::Chosen(member)) if member.organization().id == acme.id
        ));
        env.create(&ada, "Beta").await;
        let again = env.log_in("ada@example.com").await;
        assert!(
            matches!(
                orgs.choose_at_log_in(&again, &env.request).await,
                Ok(ActiveChoice::Chosen(member)) if member.organization().id == acme.id
            ),
            "the organization the other session worked in"
        );
        assert_eq!(
            env.text(&format!(
                "SELECT active_organization_id FROM user_sessions WHERE id = '{}'",
                again.session().id
            ))
            .await
            .as_deref(),
            Some(acme.id.as_str())
        );
        sqlx::query("UPDATE user_sessions SET active_organization_id = NULL")
            .execute(env.sigra.db().pool())
            .await
            .expect("no session remembers one");
        match orgs.choose_at_log_in(&again, &env.request).await {
            Ok(ActiveChoice::Pick(memberships)) => {
                let names: Vec<&str> = memberships
                    .iter()
                    .map(|m| m.organization.name.as_str())
                    .collect();
                assert_eq!(names, ["Acme", "Beta"]);
            }
            other => panic!("expected a pick, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn an_organization_that_wants_a_second_factor_sends_members_without_one_to_set_it_up() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bob = env.sign_up("bob@example.com").await;
        let eve = env.sign_up("eve@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        env.add(&owner, &bob, Role::MEMBER).await;
        let orgs = env.sigra.organizations();
        let require = OrganizationChanges {
            members_need_second_factor: Some(true),
            ..OrganizationChanges::default()
        };
        assert!(
            matches!(
                orgs.update(&owner, require.clone(), &env.request).await,
                Err(Error::MfaEnrolmentRequired)
            ),
            "nobody requires a second factor they lack"
        );
        let flag = format!(
            "SELECT members_need_second_factor FROM organizations WHERE id = '{}'",
            org.id
        );
        assert_eq!(env.count(&flag).await, 0);
        env.give_second_factor(&ada).await;
        orgs.update(&owner, require, &env.request)
            .await
            .expect("required");
        assert_eq!(env.count(&flag).await, 1);

        assert!(matches!(
            orgs.member_by_id(&bob, &org.id).await,
            Err(Error::MfaEnrolmentRequired)
        ));
        assert!(matches!(
            orgs.member_by_slug(&bob, "acme").await,
            Err(Error::MfaEnrolmentRequired)
        ));
        not_found(orgs.member_by_slug(&eve, "acme").await);
        assert!(
            matches!(
                orgs.choose_at_log_in(&bob, &env.request).await,
                Ok(ActiveChoice::Pick(_))
            ),
            "the log-in goes on"
        );
        env.give_second_factor(&bob).await;
        env.member(&bob, &org).await;
    })
    .await;
}

// ---- invitations ----

#[tokio::test]
async fn an_invitation_is_mailed_with_a_token_of_which_only_the_hash_is_stored() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let token = env.invite(&owner, "Bea@Example.com", Role::ADMIN).await;
        let stored = env
            .text("SELECT token_hash FROM organization_invitations")
            .await
            .expect("a row");
        use sha2::Digest as _;
        assert_eq!(stored, hex::encode(sha2::Sha256::digest(token.as_bytes())));
        assert_eq!(
            env.count(&format!(
                "SELECT COUNT(*) FROM organization_invitations WHERE token_hash = '{token}'"
            ))
            .await,
            0
        );
        let pending = env
            .sigra
            .organizations()
            .pending_invitations(&owner)
            .await
            .expect("pending");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].email, "bea@example.com");
        assert_eq!(pending[0].role, Role::ADMIN);
        assert_eq!(pending[0].expires_at, pending[0].created_at.plus(7 * DAY));
        let preview = env
            .sigra
            .organizations()
            .preview_invitation(&presented(&token))
            .await
            .expect("a pending invitation");
        assert_eq!(preview.organization, "Acme");
        assert_eq!(preview.email, "bea@example.com");
        assert_eq!(preview.role, Role::ADMIN);
        let audit = env.audit("organization.invite").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].2["email"], "bea@example.com");
        assert!(!audit[0].2.to_string().contains(&token));
    })
    .await;
}

#[tokio::test]
async fn an_invitation_is_accepted_only_by_the_invited_address() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let eve = env.sign_up("eve@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        let token = env.invite(&owner, "BEA@example.com", Role::ADMIN).await;
        let orgs = env.sigra.organizations();
        assert!(matches!(
            problem(
                orgs.accept_invitation(&eve, &presented(&token), &env.request)
                    .await
            ),
            OrganizationProblem::InvitationForAnotherAddress
        ));
        assert_eq!(env.role_of(&org, &eve.user().id).await, None);
        assert_eq!(
            env.count("SELECT COUNT(*) FROM organization_invitations WHERE accepted_at IS NULL")
                .await,
            1,
            "a refused acceptance leaves the invitation pending"
        );
        let bea = env.sign_up("bea@EXAMPLE.com").await;
        let membership = orgs
            .accept_invitation(&bea, &presented(&token), &env.request)
            .await
            .expect("accepted");
        assert_eq!(membership.role, Role::ADMIN);
        assert_eq!(
            env.role_of(&org, &bea.user().id).await.as_deref(),
            Some("admin")
        );
        let audit = env.audit("organization.member_add").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].0.as_deref(), Some(bea.user().id.as_str()));
        assert_eq!(audit[0].2["via"], "invitation");
        assert_eq!(audit[0].2["invited_by"], ada.user().id.as_str());
    })
    .await;
}

#[tokio::test]
async fn someone_without_an_account_signs_up_confirmed_and_joins_in_one_step() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        let token = env.invite(&owner, "cid@example.com", Role::ADMIN).await;
        let taken = env.invite(&owner, "ada2@example.com", Role::MEMBER).await;
        env.sign_up("ada2@example.com").await;
        let orgs = env.sigra.organizations();
        let password = || Password::new(PASSWORD.to_owned());
        let users = "SELECT COUNT(*) FROM users";
        assert_eq!(env.count(users).await, 2);
        assert!(matches!(
            orgs.accept_with_sign_up(&presented(&token), Password::new("short".to_owned()), &env.request)
                .await,
            Err(Error::WeakPassword(_))
        ));
        assert!(matches!(
            problem(orgs.accept_with_sign_up(&presented(&taken), password(), &env.request).await),
            OrganizationProblem::AccountExists
        ));
        assert_eq!(env.count(users).await, 2, "nothing was written");

        let membership = orgs
            .accept_with_sign_up(&presented(&token), password(), &env.request)
            .await
            .expect("signed up and joined");
        assert_eq!(membership.organization.id, org.id);
        assert_eq!(membership.role, Role::ADMIN);
        assert_eq!(
            env.count("SELECT COUNT(*) FROM users WHERE email = 'cid@example.com' AND confirmed_at IS NOT NULL")
                .await,
            1,
            "the link proved the address"
        );
        let cid = env.log_in("cid@example.com").await;
        assert_eq!(env.role_of(&org, &cid.user().id).await.as_deref(), Some("admin"));
        let registered = env.audit("auth.register.success").await;
        assert_eq!(registered.last().expect("a row").2["method"], "invitation");
        let joined = env.audit("organization.member_add").await;
        assert_eq!(joined.len(), 1);
        assert_eq!(joined[0].0.as_deref(), Some(cid.user().id.as_str()));
        assert_eq!(joined[0].2["via"], "invitation");
        assert!(matches!(
            problem(orgs.accept_with_sign_up(&presented(&token), password(), &env.request).await),
            OrganizationProblem::InvitationNotPending
        ));
    })
    .await;
}

#[tokio::test]
async fn an_accepted_invitation_cannot_be_used_again() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bea = env.sign_up("bea@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        let token = env.invite(&owner, "bea@example.com", Role::MEMBER).await;
        let orgs = env.sigra.organizations();
        orgs.accept_invitation(&bea, &presented(&token), &env.request)
            .await
            .expect("accepted");
        orgs.remove_member(&owner, &bea.user().id, &env.request)
            .await
            .expect("removed");
        assert!(matches!(
            problem(
                orgs.accept_invitation(&bea, &presented(&token), &env.request)
                    .await
            ),
            OrganizationProblem::InvitationNotPending
        ));
        assert_eq!(
            env.role_of(&org, &bea.user().id).await,
            None,
            "no way back in"
        );
        assert!(matches!(
            orgs.accept_invitation(&bea, &never_issued(), &env.request)
                .await,
            Err(Error::InvalidToken)
        ));
    })
    .await;
}

#[tokio::test]
async fn a_reinvite_replaces_the_pending_invitation() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let first = env.invite(&owner, "bea@example.com", Role::MEMBER).await;
        let second = env.invite(&owner, "bea@example.com", Role::ADMIN).await;
        assert_ne!(first, second);
        assert_eq!(
            env.count("SELECT COUNT(*) FROM organization_invitations WHERE revoked_at IS NULL AND accepted_at IS NULL")
                .await,
            1
        );
        assert_eq!(env.count("SELECT COUNT(*) FROM organization_invitations").await, 2);
        let bea = env.sign_up("bea@example.com").await;
        let orgs = env.sigra.organizations();
        assert!(matches!(
            problem(orgs.accept_invitation(&bea, &presented(&first), &env.request).await),
            OrganizationProblem::InvitationNotPending
        ));
        let membership = orgs
            .accept_invitation(&bea, &presented(&second), &env.request)
            .await
            .expect("the new one works");
        assert_eq!(membership.role, Role::ADMIN);
        let audit = env.audit("organization.invite").await;
        assert_eq!(audit[1].2["replaced"], 1);
    })
    .await;
}

#[tokio::test]
async fn revoked_and_expired_invitations_are_not_pending() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bea = env.sign_up("bea@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let orgs = env.sigra.organizations();
        let revoked = env.invite(&owner, "bea@example.com", Role::MEMBER).await;
        let id = orgs.pending_invitations(&owner).await.expect("pending")[0]
            .id
            .clone();
        orgs.revoke_invitation(&owner, &id, &env.request)
            .await
            .expect("revoked");
        not_found(orgs.revoke_invitation(&owner, &id, &env.request).await);
        assert!(matches!(
            problem(
                orgs.accept_invitation(&bea, &presented(&revoked), &env.request)
                    .await
            ),
            OrganizationProblem::InvitationNotPending
        ));
        assert_eq!(env.audit("organization.invitation_revoke").await.len(), 1);

        let expiring = env.invite(&owner, "bea@example.com", Role::MEMBER).await;
        env.clock.advance(7 * DAY);
        assert!(orgs
            .pending_invitations(&owner)
            .await
            .expect("pending")
            .is_empty());
        assert!(matches!(
            problem(orgs.preview_invitation(&presented(&expiring)).await),
            OrganizationProblem::InvitationNotPending
        ));
        assert!(matches!(
            problem(
                orgs.accept_invitation(&bea, &presented(&expiring), &env.request)
                    .await
            ),
            OrganizationProblem::InvitationNotPending
        ));
        assert!(env.audit("organization.member_add").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn members_are_not_invited_and_do_not_join_twice() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let bea = env.sign_up("bea@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let orgs = env.sigra.organizations();
        let token = env.invite(&owner, "bea@example.com", Role::MEMBER).await;
        env.add(&owner, &bea, Role::MEMBER).await;
        assert!(matches!(
            problem(
                orgs.invite(&owner, "bea@example.com", Role::MEMBER, &env.request)
                    .await
            ),
            OrganizationProblem::AlreadyMember
        ));
        assert!(matches!(
            problem(
                orgs.accept_invitation(&bea, &presented(&token), &env.request)
                    .await
            ),
            OrganizationProblem::AlreadyMember
        ));
        assert_eq!(env.audit("organization.member_add").await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn invitations_are_limited_to_20_a_day_per_inviter_and_50_per_organization() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        let org = owner.organization().clone();
        let orgs = env.sigra.organizations();
        let invite = |admin: &OrgAdmin, n: usize| {
            let admin = admin.clone();
            let request = env.request.clone();
            async move {
                orgs.invite(
                    &admin,
                    &format!("guest{n}@example.com"),
                    Role::MEMBER,
                    &request,
                )
                .await
            }
        };
        for n in 0..20 {
            invite(&owner, n).await.expect("within the inviter's limit");
        }
        assert!(matches!(
            invite(&owner, 20).await,
            Err(Error::RateLimited { .. })
        ));
        let mut admins = Vec::new();
        for name in ["bob", "cid"] {
            let user = env.sign_up(&format!("{name}@example.com")).await;
            env.add(&owner, &user, Role::ADMIN).await;
            admins.push(env.admin(&user, &org).await);
        }
        for n in 100..120 {
            invite(&admins[0], n).await.expect("bob's own 20");
        }
        for n in 200..210 {
            invite(&admins[1], n)
                .await
                .expect("up to 50 for the organization");
        }
        assert!(matches!(
            invite(&admins[1], 210).await,
            Err(Error::RateLimited { .. })
        ));
        assert_eq!(
            env.count("SELECT COUNT(*) FROM organization_invitations")
                .await,
            50
        );
        env.clock.advance(DAY);
        invite(&admins[1], 211).await.expect("a day later");
    })
    .await;
}

#[tokio::test]
async fn the_cleanup_deletes_invitations_30_days_after_expiry_and_ended_slug_redirects() {
    on_each_engine(None, |env| async move {
        let ada = env.sign_up("ada@example.com").await;
        let owner = env.create(&ada, "Acme").await.admin().expect("owner");
        env.invite(&owner, "bea@example.com", Role::MEMBER).await;
        let sudo = env.sudo(&ada).await;
        env.sigra
            .organizations()
            .change_slug(&owner, &sudo, "acme-labs", "acme", &env.request)
            .await
            .expect("the slug changes");
        let invitations = "SELECT COUNT(*) FROM organization_invitations";
        let redirects = "SELECT COUNT(*) FROM organization_slug_aliases";
        let jobs = env.sigra.jobs();
        jobs.schedule_periodic_jobs().await.expect("scheduled");
        jobs.run_due_jobs("test").await.expect("cleanup");
        assert_eq!(env.count(redirects).await, 1, "the redirect is live");
        env.clock.advance(37 * DAY - Duration::from_secs(60));
        jobs.run_due_jobs("test").await.expect("cleanup");
        assert_eq!(env.count(invitations).await, 1, "kept 30 days after expiry");
        assert_eq!(
            env.count(redirects).await,
            0,
            "an ended redirect is deleted"
        );
        env.clock.advance(Duration::from_secs(2 * 3600));
        jobs.run_due_jobs("test").await.expect("cleanup");
        assert_eq!(env.count(invitations).await, 0);
    })
    .await;
}

// ---- hooks ----

/// Records each hook call and what its connection sees; fails the one named in `fail`.
#[derive(Default)]
struct Recording {
    calls: Mutex<Vec<String>>,
    fail: Option<&'static str>,
}

impl Recording {
    fn record<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        name: &'static str,
        org: &'a Organization,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        Box::pin(async move {
            let rows: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM organization_memberships WHERE organization_id = $1",
            )
            .bind(org.id.as_str())
            .fetch_one(conn)
            .await
            .map_err(|e| HookError(e.to_string()))?;
            self.calls.lock().unwrap().push(format!("{name}:{rows}"));
            if self.fail == Some(name) {
                return Err(HookError(format!("{name} refused")));
            }
            Ok(())
        })
    }
}

impl LifecycleHooks for Recording {
    fn before_create_organization<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "before_create", org)
    }

    fn after_create_organization<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "after_create", org)
    }

    fn before_add_member<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
        _: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "before_add", org)
    }

    fn after_add_member<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
        _: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "after_add", org)
    }

    fn before_role_change<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
        _: Role,
        _: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "before_role_change", org)
    }

    fn after_role_change<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
        _: Role,
        _: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "after_role_change", org)
    }

    fn before_member_remove<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
        _: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "before_remove", org)
    }

    fn after_member_remove<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
        _: Role,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "after_remove", org)
    }

    fn before_delete_organization<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "before_delete", org)
    }

    fn after_delete_organization<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        org: &'a Organization,
        _: &'a UserId,
    ) -> BoxFuture<'a, Result<(), HookError>> {
        self.record(conn, "after_delete", org)
    }
}

#[tokio::test]
async fn organization_hooks_run_inside_each_change_in_order() {
    let hooks = Arc::new(Recording::default());
    let shared: Arc<dyn LifecycleHooks> = hooks.clone();
    on_each_engine(Some(shared), |env| {
        let hooks = Arc::clone(&hooks);
        async move {
            hooks.calls.lock().unwrap().clear();
            let ada = env.sign_up("ada@example.com").await;
            let bob = env.sign_up("bob@example.com").await;
            let owner = env.create(&ada, "Acme").await.admin().expect("owner");
            let orgs = env.sigra.organizations();
            env.add(&owner, &bob, Role::MEMBER).await;
            orgs.change_role(&owner, &bob.user().id, Role::ADMIN, &env.request)
                .await
                .expect("role changed");
            orgs.remove_member(&owner, &bob.user().id, &env.request)
                .await
                .expect("removed");
            let sudo = env.sudo(&ada).await;
            orgs.delete(&owner, &sudo, "Acme", &env.request)
                .await
                .expect("deleted");
            // Each count is what the hook's connection saw: the change's own uncommitted rows.
            assert_eq!(
                *hooks.calls.lock().unwrap(),
                [
                    "before_create:0",
                    "after_create:1",
                    "before_add:1",
                    "after_add:2",
                    "before_role_change:2",
                    "after_role_change:2",
                    "before_remove:2",
                    "after_remove:1",
                    "before_delete:1",
                    "after_delete:1",
                ]
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_failing_hook_rolls_the_whole_change_back() {
    for fail in ["after_create", "after_add"] {
        let hooks: Arc<dyn LifecycleHooks> = Arc::new(Recording {
            calls: Mutex::default(),
            fail: Some(fail),
        });
        on_each_engine(Some(hooks), |env| async move {
            let ada = env.sign_up("ada@example.com").await;
            let bob = env.sign_up("bob@example.com").await;
            let orgs = env.sigra.organizations();
            if fail == "after_create" {
                assert!(matches!(
                    orgs.create(&ada, "Acme", &env.request).await,
                    Err(Error::Hook(_))
                ));
                assert_eq!(env.count("SELECT COUNT(*) FROM organizations").await, 0);
                assert_eq!(
                    env.count("SELECT COUNT(*) FROM organization_memberships")
                        .await,
                    0
                );
                assert!(env.audit("organization.create").await.is_empty());
            } else {
                let owner = env.create(&ada, "Acme").await.admin().expect("owner");
                assert!(matches!(
                    orgs.add_member(&owner, &bob.user().id, Role::MEMBER, &env.request)
                        .await,
                    Err(Error::Hook(_))
                ));
                assert_eq!(
                    env.count("SELECT COUNT(*) FROM organization_memberships")
                        .await,
                    1
                );
                assert!(env.audit("organization.member_add").await.is_empty());
            }
        })
        .await;
    }
}

/// A mailed token as the link presents it.
fn presented(text: &str) -> PresentedToken {
    PresentedToken::parse(text).expect("a well-formed token")
}

/// A well-formed token no invitation was ever made with.
fn never_issued() -> PresentedToken {
    PresentedToken::parse(sigra::crypto::IssuedToken::generate().expose()).expect("well-formed")
}
