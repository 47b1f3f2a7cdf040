using Campaigns.Campaigns;
using Campaigns.Platform;
using Campaigns.Workspaces;

namespace Campaigns.Tests.Workspaces;

public sealed class WorkspaceRulesTests
{
    private static readonly DateTimeOffset T0 = new(2027, 3, 1, 9, 0, 0, TimeSpan.Zero);
    private static Membership Member(WorkspaceRole role) => new("brand", "s1", role, null, T0, "op", T0);

    [Fact]
    public void Not_a_member_is_not_found_a_member_without_the_power_is_forbidden()
    {
        Assert.Equal(AccessOutcome.NotFound, WorkspaceRules.Decide(null, false, Powers.CampaignArchive));
        Assert.Equal(AccessOutcome.Forbidden, WorkspaceRules.Decide(Member(WorkspaceRole.Moderator), false, Powers.CampaignArchive));
        Assert.Equal(AccessOutcome.Allowed, WorkspaceRules.Decide(Member(WorkspaceRole.Marketer), false, Powers.CampaignArchive));
        // Operators create workspaces and repair memberships; they do not run brands' campaigns.
        Assert.Equal(AccessOutcome.Allowed, WorkspaceRules.Decide(null, true, Powers.MembersManage));
        Assert.Equal(AccessOutcome.NotFound, WorkspaceRules.Decide(null, true, Powers.CampaignArchive));
        Assert.Equal(AccessOutcome.NotFound, WorkspaceRules.Decide(null, true, Powers.WinnerContacts));
    }

    [Fact]
    public void Powers_table_gives_fraud_and_escalations_to_owners_and_contacts_and_tally_to_marketers()
    {
        Assert.Equal([WorkspaceRole.Owner], Powers.FraudInvalidate.Roles);
        Assert.Equal([WorkspaceRole.Owner], Powers.ModerationEscalations.Roles);
        Assert.DoesNotContain(WorkspaceRole.Moderator, Powers.FraudInvalidate.Roles);
        Assert.Contains(WorkspaceRole.Marketer, Powers.TallyRead.Roles);
        Assert.Contains(WorkspaceRole.Marketer, Powers.WinnerContacts.Roles);
        Assert.Contains(WorkspaceRole.Owner, Powers.ModerationSettingsEdit.Roles);
        Assert.DoesNotContain(WorkspaceRole.Judge, Powers.EpisodeSettingsRead.Roles); // webhook URLs stay with marketers
        Assert.Equal(Powers.All.Count, Powers.All.Select(p => p.Name).Distinct().Count());
    }

    [Fact]
    public void The_last_owner_can_neither_step_down_nor_be_removed()
    {
        var owner = Member(WorkspaceRole.Owner);
        Assert.Equal("last_owner", WorkspaceRules.Put(owner, 1, "brand", "s1", new MemberInput(WorkspaceRole.Marketer), "s1", T0).Code);
        Assert.Equal("last_owner", WorkspaceRules.Remove(owner, 1).Code);
        Assert.Equal(WorkspaceRole.Marketer, WorkspaceRules.Put(owner, 2, "brand", "s1", new MemberInput(WorkspaceRole.Marketer), "s2", T0).Member!.Role);
        Assert.True(WorkspaceRules.Remove(owner, 2).Ok);
        var added = WorkspaceRules.Put(null, 0, "brand", "new", new MemberInput(WorkspaceRole.Judge, "j@example.com"), "s1", T0).Member!;
        Assert.Equal(("new", WorkspaceRole.Judge, "j@example.com", "s1"), (added.Subject, added.Role, added.Email, added.AddedBy));
    }

    [Fact]
    public void Workspace_and_member_input_is_validated_per_field()
    {
        var bad = WorkspaceRules.Validate(new WorkspaceInput("X", "", new MemberRef("", "not-an-email")));
        Assert.Equal(["id", "name", "owner.email", "owner.subject"], bad.Keys.Order());
        Assert.Empty(WorkspaceRules.Validate(new WorkspaceInput("porsche", "Porsche", new MemberRef("olivia", "o@example.com"))));
        Assert.Contains("subject", WorkspaceRules.Validate("a\u0001b", new MemberInput(WorkspaceRole.Viewer)).Keys);
        Assert.Contains("role", WorkspaceRules.Validate("ok", new MemberInput((WorkspaceRole)42)).Keys);
    }

    [Fact]
    public void Eligibility_freezes_once_entry_or_voting_opens_and_the_workspace_never_changes()
    {
        var input = new CampaignInput("Vote", "Brand", "Europe/Zurich", ["en"], [CampaignFeature.Voting],
            Windows: new CampaignWindows(Voting: new TimeWindow(T0.AddDays(1), T0.AddDays(10))), Eligibility: new Eligibility(18, ["CH"]));
        var draft = CampaignRules.Create(input, "vote-1", "brand", T0);
        var published = draft with { Status = CampaignStatus.Published };
        var stricter = input with { Eligibility = new Eligibility(21, ["CH"]) };

        Assert.NotNull(CampaignRules.Update(draft, stricter, T0.AddDays(2)).Value);        // a draft: nobody relies on it
        Assert.NotNull(CampaignRules.Update(published, stricter, T0).Value);                // published, voting not open yet
        Assert.Equal("eligibility_frozen", CampaignRules.Update(published, stricter, T0.AddDays(1)).Code);
        Assert.Equal("eligibility_frozen", CampaignRules.Update(published, input with { Eligibility = new Eligibility(18, ["CH", "DE"]) }, T0.AddDays(3)).Code);
        Assert.NotNull(CampaignRules.Update(published, input with { Eligibility = new Eligibility(18, ["CH"]), Name = "Renamed" }, T0.AddDays(3)).Value);
        Assert.Equal("workspace_immutable", CampaignRules.Update(draft, input with { WorkspaceId = "other" }, T0).Code);
        // Published without entry or voting windows: fans take part from publication on.
        var open = CampaignRules.Create(input with { Windows = null }, "vote-2", "brand", T0) with { Status = CampaignStatus.Published };
        Assert.Equal("eligibility_frozen", CampaignRules.Update(open, stricter with { Windows = null }, T0).Code);
    }

    [Fact]
    public void In_Azure_the_dev_key_the_local_captcha_and_star_cors_are_refused_by_setting_name()
    {
        Assert.Empty(DeploymentGuard.Problems(false, "dev-key", "local", "*"));
        var problems = DeploymentGuard.Problems(true, "dev-key", "local", "https://a.example, *");
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("Auth__DevSigningKey"));
        Assert.Contains(problems, p => p.Contains("Voting__CaptchaProvider"));
        Assert.Contains(problems, p => p.Contains("Submissions__UploadCorsOrigins"));
        Assert.Empty(DeploymentGuard.Problems(true, "", "siteverify", "https://a.example,https://b.example"));
    }
}
