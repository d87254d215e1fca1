//! `/invitations/accept`: where an invitation link lands (its token is in the link cookie).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::forms::{Field, FormCard, FormError, Submit};
use crate::components::time::Time;
use crate::components::ui::{Banner, Loading, TextLink, Tone};
use crate::error::UiError;
use crate::organizations::{
    invitation_details, AcceptInvitation, InvitationInfo, JoinWithNewAccount,
};
use crate::paths;

/// Shows the invitation and the way to accept it that fits who is looking.
#[component]
pub fn InvitationPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| invitation_details());
    let accept = ServerAction::<AcceptInvitation>::new();
    let join = ServerAction::<JoinWithNewAccount>::new();
    view! {
        <Title text="Invitation" />
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(invitation) => invitation_card(invitation, accept, join).into_any(),
                    Err(error) => view! {
                        <FormCard title="Invitation">
                            <Banner tone=Tone::Danger attr:role="alert" attr:data-testid="invitation-invalid">
                                {match error {
                                    UiError::InvalidToken => "This invitation link is not valid. Open the link from the mail again, or ask for a new invitation.".to_owned(),
                                    other => other.to_string(),
                                }}
                            </Banner>
                        </FormCard>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

fn invitation_card(
    invitation: InvitationInfo,
    accept: ServerAction<AcceptInvitation>,
    join: ServerAction<JoinWithNewAccount>,
) -> impl IntoView {
    let InvitationInfo {
        organization,
        email,
        role,
        expires_at,
        signed_in_as,
        addressed_to_you,
    } = invitation;
    let invited = email.clone();
    let action = match (signed_in_as, addressed_to_you) {
        (Some(_), true) => view! {
            <ActionForm action=accept attr:class="space-y-4">
                <FormError action=accept />
                <Submit label="Join organization" pending=accept.pending().into() />
            </ActionForm>
        }
        .into_any(),
        (Some(other), false) => view! {
            <Banner tone=Tone::Warning attr:data-testid="invitation-other-address">
                "You are logged in as " <strong class="break-all">{other}</strong>
                ", but this invitation is for " <strong class="break-all">{invited}</strong>
                ". Log out and open the link again logged in with that address, or ask for an invitation to yours."
            </Banner>
        }
        .into_any(),
        (None, _) => view! {
            <div class="space-y-6">
                <p class="text-sm">
                    "Have an account with this address? "
                    <TextLink href=paths::with_return_to(paths::LOG_IN, paths::INVITATION)>"Log in to accept"</TextLink>
                    "."
                </p>
                <ActionForm action=join attr:class="space-y-4">
                    <FormError action=join />
                    <p class="text-sm text-slate-600 dark:text-slate-300">
                        "New here? Choose a password to create your account with this address and join."
                    </p>
                    <input type="email" name="username" value=invited autocomplete="username" readonly=true hidden=true />
                    <Field label="Password" name="password" kind="password" autocomplete="new-password" />
                    <Submit label="Create account and join" pending=join.pending().into() />
                </ActionForm>
            </div>
        }
        .into_any(),
    };
    view! {
        <FormCard title="You are invited">
            <p class="mb-4 text-sm" data-testid="invitation-summary">
                "Join " <strong>{organization}</strong> " as " <strong>{role}</strong>
                ". The invitation is for " <strong class="break-all">{email.clone()}</strong>
                " and works until " <Time at=expires_at.clone() /> "."
            </p>
            {action}
        </FormCard>
    }
}
