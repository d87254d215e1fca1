//! Organizations in a test: make one, and add members through a real invitation.

use reqwest::StatusCode;

use super::{location, TestApp};

impl TestApp {
    /// Creates an organization as the user with `cookie`; its slug.
    pub async fn create_organization(&self, cookie: &str, name: &str) -> String {
        let response = self
            .post_form(
                "/api/user-organizations/create",
                "/organizations/new",
                &[("name", name)],
                Some(cookie),
            )
            .await;
        assert_eq!(response.status(), StatusCode::FOUND);
        location(&response)
            .strip_prefix("/organizations/")
            .expect("sent to the organization")
            .to_owned()
    }

    /// Invites `email` to `slug` as `role` (`member`, `admin`, …), as the admin with `cookie`.
    pub async fn invite_member(&self, cookie: &str, slug: &str, email: &str, role: &str) {
        let members = format!("/organizations/{slug}/members");
        let response = self
            .post_form(
                "/api/organizations/invite",
                &members,
                &[("slug", slug), ("email", email), ("role", role)],
                Some(cookie),
            )
            .await;
        assert_eq!(location(&response), members, "invited");
    }

    /// Invites the signed-in `member` (at `email`) to `slug` as `role` and accepts the mailed
    /// invitation as them.
    pub async fn add_member(&self, admin: &str, slug: &str, member: &str, email: &str, role: &str) {
        self.invite_member(admin, slug, email, role).await;
        let link = self.link_in_mail(email, "/invitations/").await;
        let (link_cookie, _) = self.open_link(&link).await;
        let joined = self
            .post_link_form("/api/invitations/accept", &link_cookie, &[], Some(member))
            .await;
        assert_eq!(
            location(&joined),
            format!("/organizations/{slug}"),
            "joined"
        );
    }
}
