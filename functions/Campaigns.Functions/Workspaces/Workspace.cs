using System.Text.RegularExpressions;

namespace Campaigns.Workspaces;

/// <summary>A brand or an agency's client. Every campaign belongs to exactly one, for life.</summary>
public sealed record Workspace(string Id, string Name, DateTimeOffset CreatedAt, string CreatedBy);

/// <summary>A staff member's standing in one workspace. The subject is the token's <c>sub</c>.</summary>
public sealed record Membership(string WorkspaceId, string Subject, WorkspaceRole Role, string? Email,
    DateTimeOffset AddedAt, string AddedBy, DateTimeOffset UpdatedAt);

/// <summary>Who did what in a workspace: member changes, winners' contact reads, audited extensions.</summary>
public sealed record WorkspaceAuditEntry(string WorkspaceId, DateTimeOffset At, string Actor, string Action, string? Target, string? Detail);

public sealed record MemberRef(string Subject, string? Email = null);
public sealed record WorkspaceInput(string Id, string Name, MemberRef Owner);
public sealed record MemberInput(WorkspaceRole Role, string? Email = null);

/// <summary>What the authorisation check decides for one (principal, workspace, power).</summary>
public enum AccessOutcome { Allowed, NotFound, Forbidden }

/// <summary>Pure decisions about workspaces and memberships.</summary>
public static partial class WorkspaceRules
{
    public const int MaxName = 120, MaxSubject = 256, MaxEmail = 254;

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{2,62}$")] public static partial Regex IdPattern();
    [GeneratedRegex(@"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")] private static partial Regex EmailPattern();

    /// <summary>
    /// The one authorisation decision. Not a member: 404, so another brand's campaign is never confirmed to exist.
    /// A member without the power: 403. Operators hold only the powers the table gives them.
    /// </summary>
    public static AccessOutcome Decide(Membership? membership, bool isOperator, Power power)
    {
        if (isOperator && power.Operator) return AccessOutcome.Allowed;
        if (membership is null) return AccessOutcome.NotFound;
        return power.Allows(membership.Role) ? AccessOutcome.Allowed : AccessOutcome.Forbidden;
    }

    public static Dictionary<string, string[]> Validate(WorkspaceInput input)
    {
        var errors = new Dictionary<string, string[]>();
        if (!IdPattern().IsMatch(input.Id ?? "")) errors["id"] = ["Use 3–63 lowercase letters, digits and hyphens, starting with a letter or digit."];
        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > MaxName || input.Name.Any(char.IsControl))
            errors["name"] = [$"Required, at most {MaxName} characters, no control characters."];
        if (input.Owner is null) errors["owner"] = ["Name the first owner by subject."];
        else Member(input.Owner.Subject, input.Owner.Email, errors, "owner.");
        return errors;
    }

    public static Dictionary<string, string[]> Validate(string subject, MemberInput input)
    {
        var errors = new Dictionary<string, string[]>();
        Member(subject, input.Email, errors, "");
        if (!Enum.IsDefined(input.Role)) errors["role"] = ["Use owner, marketer, moderator, judge or viewer."];
        return errors;
    }

    private static void Member(string? subject, string? email, Dictionary<string, string[]> errors, string prefix)
    {
        if (string.IsNullOrWhiteSpace(subject) || subject.Length > MaxSubject || subject.Any(char.IsControl))
            errors[prefix + "subject"] = [$"The member's token subject ('sub'): required, at most {MaxSubject} characters."];
        if (email is not null && (email.Length > MaxEmail || !EmailPattern().IsMatch(email)))
            errors[prefix + "email"] = ["Not an e-mail address."];
    }

    /// <summary>
    /// Adds a member or changes a role. A workspace keeps at least one owner: the last owner cannot step down
    /// (an operator can always add a new owner first).
    /// </summary>
    public static (Membership? Member, string? Code, string? Detail) Put(Membership? current, int owners, string workspaceId,
        string subject, MemberInput input, string actor, DateTimeOffset now)
    {
        if (current is { Role: WorkspaceRole.Owner } && input.Role != WorkspaceRole.Owner && owners <= 1)
            return (null, "last_owner", "A workspace keeps at least one owner: add another owner before changing this one's role.");
        var member = current is null
            ? new Membership(workspaceId, subject, input.Role, input.Email, now, actor, now)
            : current with { Role = input.Role, Email = input.Email ?? current.Email, UpdatedAt = now };
        return (member, null, null);
    }

    public static (bool Ok, string? Code, string? Detail) Remove(Membership current, int owners)
        => current.Role == WorkspaceRole.Owner && owners <= 1
            ? (false, "last_owner", "A workspace keeps at least one owner: add another owner before removing this one.")
            : (true, null, null);
}
