namespace Campaigns.Workspaces;

/// <summary>A staff member's role inside one workspace. Authority comes from this, never from the token.</summary>
public enum WorkspaceRole { Owner, Marketer, Moderator, Judge, Viewer }

/// <summary>One thing a staff route lets someone do, and who may: the powers table that code and docs share.</summary>
public sealed record Power(string Name, string What, WorkspaceRole[] Roles, bool Operator = false)
{
    public bool Allows(WorkspaceRole role) => Roles.Contains(role);
}

/// <summary>
/// The powers table. Every staff route names one of these; the authorisation check and docs/access.md read this list,
/// so the rendered table cannot disagree with what the code enforces. Operators hold only the powers marked for them:
/// creating workspaces and repairing memberships, never a brand's day-to-day work or its fans' data.
/// </summary>
public static class Powers
{
    private const WorkspaceRole O = WorkspaceRole.Owner, M = WorkspaceRole.Marketer, Mo = WorkspaceRole.Moderator,
        J = WorkspaceRole.Judge, V = WorkspaceRole.Viewer;

    // Workspaces and members
    public static readonly Power WorkspaceCreate = new("workspace.create", "Create a workspace and its first owner", [], Operator: true);
    public static readonly Power WorkspaceRead = new("workspace.read", "See a workspace and its own role in it", [O, M, Mo, J, V], Operator: true);
    public static readonly Power MembersRead = new("members.read", "List a workspace's members", [O], Operator: true);
    public static readonly Power MembersManage = new("members.manage", "Add members, change their roles, remove them", [O], Operator: true);
    public static readonly Power WorkspaceAudit = new("workspace.audit", "Read the workspace's audit trail (members, contact reads, extensions)", [O], Operator: true);

    // Campaigns
    public static readonly Power CampaignRead = new("campaign.read", "Read a campaign, its ballot, series, settings summaries", [O, M, Mo, J, V]);
    public static readonly Power CampaignCreate = new("campaign.create", "Create a campaign in the workspace", [O, M]);
    public static readonly Power CampaignEdit = new("campaign.edit", "Change a campaign's settings, windows, rules and consent", [O, M]);
    public static readonly Power CampaignPublish = new("campaign.publish", "Publish a campaign", [O, M]);
    public static readonly Power CampaignArchive = new("campaign.archive", "Archive a campaign (read-only for good)", [O, M]);

    // Voting
    public static readonly Power BallotEdit = new("ballot.edit", "Create or change the ballot (rounds freeze once open)", [O, M]);
    public static readonly Power TallyRead = new("tally.read", "Live tally (unless the ballot seals it from everyone) and refusals", [O, M]);
    public static readonly Power RoundReveal = new("round.reveal", "Reveal a closed round's signed results", [O, M]);
    public static readonly Power FraudInvalidate = new("votes.invalidate", "Invalidate or restore a fan's votes for fraud", [O]);

    // Episodes
    public static readonly Power EpisodesRead = new("episodes.read", "Read series, episodes, schedule audit and engagement", [O, M, V]);
    public static readonly Power EpisodesEdit = new("episodes.edit", "Create and schedule series and episodes; retry parked scheduler jobs", [O, M]);
    public static readonly Power EpisodeSettingsRead = new("episodes.settings.read", "Read episode settings (webhook URL)", [O, M]);
    public static readonly Power EpisodeSettingsEdit = new("episodes.settings.edit", "Change episode settings (webhook URL); read and rotate its signing secrets", [O, M]);

    // Submissions, moderation
    public static readonly Power SubmissionSettingsRead = new("submissions.settings.read", "Read submission settings", [O, M, Mo]);
    public static readonly Power SubmissionSettingsEdit = new("submissions.settings.edit", "Change submission settings", [O, M]);
    public static readonly Power ModerationReview = new("moderation.review", "Work the moderation queue: claim, decide, read items and audit", [O, Mo]);
    public static readonly Power ModerationEscalations = new("moderation.escalations", "Decide escalated items and override others' claims", [O]);
    public static readonly Power ModerationSettingsRead = new("moderation.settings.read", "Read moderation settings", [O, M, Mo]);
    public static readonly Power ModerationSettingsEdit = new("moderation.settings.edit", "Change moderation settings", [O, Mo]);
    public static readonly Power FansBlock = new("fans.block", "Block or unblock a fan in a campaign (hides content, suspends votes)", [O, Mo]);
    public static readonly Power ModerationFigures = new("moderation.figures", "Read moderation SLA figures and the engaged-fan ranking", [O, M, Mo, V]);

    // Judging
    public static readonly Power JudgingSetup = new("judging.setup", "Set up judging, open and close rounds, publish hybrid weights", [O, M]);
    public static readonly Power JudgingRead = new("judging.read", "Read judging setup, rounds and closed results", [O, M, J, V]);
    public static readonly Power JudgingScore = new("judging.score", "Score entries blind and declare own conflicts", [J]);
    public static readonly Power JudgingConflicts = new("judging.conflicts", "Declare a judge's conflict of interest (judges: their own)", [O, M, J]);
    public static readonly Power JudgingConflictsForOthers = new("judging.conflicts.others", "Declare a conflict for another judge", [O, M]);

    // Labels
    public static readonly Power LabelsDesign = new("labels.design", "Set the label template and its background", [O, M]);
    public static readonly Power LabelsFulfil = new("labels.fulfil", "Print batches, manifests and shipment imports", [O, M]);
    public static readonly Power LabelsRead = new("labels.read", "List print batches", [O, M, V]);

    // Winners
    public static readonly Power DrawsRead = new("draws.read", "Read draws and their state", [O, M, V]);
    public static readonly Power DrawsRun = new("draws.run", "Configure, commit, run draws; set winners' status; promote alternates", [O, M]);
    public static readonly Power DrawsExternal = new("draws.external", "Enter a draw's external random value", [O]);
    public static readonly Power WinnerContacts = new("winners.contacts", "Read winners' contact identities for fulfilment (each read audited)", [O, M]);
    public static readonly Power WinnersWebhook = new("winners.webhook", "Set, read and rotate the workspace's winner-notification receiver (audited)", [O]);

    // Fans' data rights
    public static readonly Power FanDataRequests = new("fans.data_requests", "Answer a fan's export or erasure request for the workspace's campaigns (audited)", [O]);

    // Platform
    public static readonly Power FanProfileRead = new("fans.profile.read", "Read any fan's profile (support cases)", [], Operator: true);
    public static readonly Power PlatformStats = new("platform.stats", "Read this instance's storage counters", [], Operator: true);
    public static readonly Power QueuesRedrive = new("queues.redrive", "Move a queue's poison messages back to it (after fixing the cause)", [], Operator: true);

    public static readonly IReadOnlyList<Power> All = typeof(Powers).GetFields()
        .Where(f => f.FieldType == typeof(Power)).Select(f => (Power)f.GetValue(null)!).ToList();

    public static Power ByName(string name) => All.FirstOrDefault(p => p.Name == name)
        ?? throw new ArgumentException($"No power named '{name}'.", nameof(name));

    /// <summary>The table as Markdown, for docs/access.md (a test keeps the file equal to this).</summary>
    public static string Markdown()
    {
        var roles = Enum.GetValues<WorkspaceRole>();
        var head = "| power | what it allows | " + string.Join(" | ", roles.Select(r => r.ToString().ToLowerInvariant())) + " | operator |";
        var rule = "|---|---|" + string.Concat(roles.Select(_ => ":-:|")) + ":-:|";
        var rows = All.Select(p => $"| `{p.Name}` | {p.What} | " + string.Join(" | ", roles.Select(r => p.Allows(r) ? "✓" : "")) +
                                   $" | {(p.Operator ? "✓" : "")} |");
        return string.Join('\n', new[] { head, rule }.Concat(rows)) + "\n";
    }
}
