using System.Net.Http.Json;
using System.Text.Json;
using Campaigns.Campaigns;
using Campaigns.Fans;
using Campaigns.Platform;
using Campaigns.Submissions;
using Campaigns.Tests.Episodes;
using Campaigns.Tests.Infrastructure;
using Campaigns.Tests.Submissions;
using Campaigns.Tests.Voting;

namespace Campaigns.Tests.Fans;

/// <summary>Versioned consent texts: what a fan's acceptance records, a new rules version asking again, public display.</summary>
public sealed class ConsentVersionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);
    private static VersionedText T(string version) => new(version, new() { ["en"] = "Text " + version });

    private static Campaign Campaign(string rules = "r1", string? prizeDraw = null, string? marketing = null, string? publicDisplay = null)
        => CampaignRules.Create(new CampaignInput("Car", "Brand", "Europe/Zurich", ["en"], [CampaignFeature.Voting],
            Rules: T(rules), PrizeDraw: prizeDraw is null ? null : T(prizeDraw), Marketing: marketing is null ? null : T(marketing),
            PublicDisplay: publicDisplay is null ? null : T(publicDisplay)), "c-consent", "ws", Now);

    [Fact]
    public void Acceptance_records_the_version_and_time_of_each_text_and_every_change_in_the_history()
    {
        var c = Campaign(prizeDraw: "p1", marketing: "m1", publicDisplay: "d1");
        var (first, code, _) = FanRules.Consent(c, null, "fan-1", new ConsentInput("r1", PrizeDrawVersion: "p1", MarketingOptIn: true, PublicDisplay: true), Now);
        Assert.Null(code);
        Assert.Equal(("r1", Now, "p1", Now), (first!.RulesVersion, first.RulesAcceptedAt, first.PrizeDrawVersion, first.PrizeDrawAcceptedAt));
        Assert.Equal(("m1", Now, "d1", Now), (first.MarketingVersion, first.MarketingOptInAt, first.PublicDisplayVersion, first.ShowNamePubliclyAt));
        Assert.True(first.ShowNamePublicly);
        Assert.Equal(["rules", "prizeDraw", "marketing", "publicDisplay"], first.History!.Select(h => h.Text));

        // Later: a new rules version is accepted and public display withdrawn; the earlier grants keep their instants.
        var later = Now.AddDays(3);
        var (second, _, _) = FanRules.Consent(c with { Rules = T("r2") }, first, "fan-1",
            new ConsentInput("r2", PrizeDrawVersion: "p1", MarketingOptIn: true, PublicDisplay: false), later);
        Assert.Equal(("r2", later, Now, Now), (second!.RulesVersion, second.RulesAcceptedAt, second.PrizeDrawAcceptedAt, second.MarketingOptInAt));
        Assert.False(second.ShowNamePublicly);
        Assert.Null(second.ShowNamePubliclyAt);
        Assert.Null(second.PublicDisplayVersion);
        Assert.Equal(new ConsentEvent("rules", "r2", true, later), second.History![^2]);
        Assert.Equal(new ConsentEvent("publicDisplay", "d1", false, later), second.History[^1]);
        Assert.Equal(6, second.History.Length);
    }

    [Fact]
    public void Prize_draw_terms_are_required_where_the_campaign_carries_them_and_optional_texts_must_be_current_when_named()
    {
        var c = Campaign(prizeDraw: "p2", marketing: "m1");
        Assert.Equal("prize_draw_version_mismatch", FanRules.Consent(c, null, "f", new ConsentInput("r1"), Now).Code);
        Assert.Equal("prize_draw_version_mismatch", FanRules.Consent(c, null, "f", new ConsentInput("r1", PrizeDrawVersion: "p1"), Now).Code);
        Assert.Equal("marketing_version_mismatch",
            FanRules.Consent(c, null, "f", new ConsentInput("r1", PrizeDrawVersion: "p2", MarketingOptIn: true, MarketingVersion: "m0"), Now).Code);
        Assert.Equal("public_display_version_mismatch",
            FanRules.Consent(c, null, "f", new ConsentInput("r1", PrizeDrawVersion: "p2", PublicDisplayVersion: "d1"), Now).Code);
        var ok = FanRules.Consent(c, null, "f", new ConsentInput("r1", PrizeDrawVersion: "p2"), Now).Consent!;
        Assert.Equal("p2", ok.PrizeDrawVersion);
        Assert.False(ok.MarketingOptIn);
        Assert.Null(ok.MarketingVersion);
        // Without a prize-draw text nothing is asked for, and nothing is recorded.
        Assert.Null(FanRules.Consent(Campaign(), null, "f", new ConsentInput("r1"), Now).Consent!.PrizeDrawVersion);
        // The old field name of the public-display choice still works.
        Assert.True(FanRules.Consent(Campaign(), null, "f", new ConsentInput("r1", ShowNamePublicly: true), Now).Consent!.ShowNamePublicly);
    }

    [Fact]
    public void A_new_rules_version_asks_again_naming_the_version_to_accept()
    {
        Assert.Null(FanRules.ConsentNeeded(Campaign() with { Rules = null }, null));
        Assert.Null(FanRules.ConsentNeeded(Campaign("r2"), "r2"));
        var never = FanRules.ConsentNeeded(Campaign("r2"), null)!;
        Assert.Equal((403, "consent_required"), (never.Status, never.Code));
        var stale = FanRules.ConsentNeeded(Campaign("r2"), "r1")!;
        Assert.Equal("consent_required", stale.Code);
        Assert.Equal(["r2"], stale.Errors!["rulesVersion"]);
        Assert.Contains("'r1'", stale.Detail);
    }

    [Fact]
    public void Stored_campaigns_with_the_single_consent_text_read_it_as_the_prize_draw_text_and_old_consents_still_read()
    {
        var legacy = Campaign() with { Consent = T("c1"), PrizeDraw = null };
        var read = JsonSerializer.Deserialize<Campaign>(JsonSerializer.Serialize(legacy, JsonDefaults.Options), JsonDefaults.Options)!.Normalised();
        Assert.Equal("c1", read.PrizeDraw!.Version);
        Assert.Null(read.Consent);
        // Marketers' tools that still send "consent" create a prize-draw text.
        var created = CampaignRules.Create(new CampaignInput("Car", "Brand", "Europe/Zurich", ["en"], [CampaignFeature.Voting], Consent: T("c2")), "c-x", "ws", Now);
        Assert.Equal(("c2", (VersionedText?)null), (created.PrizeDraw!.Version, created.Consent));
        Assert.Contains("consent", CampaignRules.Validate(new CampaignInput("Car", "Brand", "Europe/Zurich", ["en"], [CampaignFeature.Voting],
            Consent: T("c2"), PrizeDraw: T("p1"))).Keys);

        // A consent row written before the texts were versioned separately (no prize draw, history or versions).
        const string old = """{"fanId":"f","campaignId":"c","rulesVersion":"r1","rulesAcceptedAt":"2026-11-01T00:00:00+00:00","rightsGrantedAt":null,"ageConfirmedAt":null,"marketingOptIn":false,"marketingOptInAt":null,"showNamePublicly":true,"showNamePubliclyAt":"2026-11-01T00:00:00+00:00"}""";
        var consent = JsonSerializer.Deserialize<CampaignConsent>(old, JsonDefaults.Options)!;
        Assert.Equal(("r1", true, (string?)null), (consent.RulesVersion, consent.ShowNamePublicly, consent.PrizeDrawVersion));
        Assert.Null(FanRules.ConsentNeeded(Campaign(), consent.RulesVersion));
    }

    private static async Task<string> VotingCampaignAsync(TestApp app, DateTimeOffset now, string rules)
    {
        var id = VotingKit.NewId("consent");
        var marketer = app.As("marketer");
        var created = await marketer.PostAsJsonAsync("/api/campaigns", Body(id, now, rules));
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{id}/publish", null)).StatusCode);
        await VotingKit.PutBallotAsync(app, id, VotingKit.Ballot(mode: "lastWins"));
        return id;
    }

    private static object Body(string id, DateTimeOffset now, string rules) => new
    {
        id, name = "Build the car", brand = "Cars", timeZone = "Europe/Berlin", locales = new[] { "en" }, features = new[] { "voting" },
        windows = new { publish = VotingKit.Window(now.AddDays(-10), now.AddDays(60)), voting = VotingKit.Window(now.AddHours(-1), now.AddDays(10)) },
        rules = new { version = rules, text = new Dictionary<string, string> { ["en"] = "Rules " + rules } },
    };

    /// <summary>Publishes a new rules version the way a marketer does: read with the ETag, replace.</summary>
    private static async Task PublishRulesAsync(TestApp app, string id, DateTimeOffset createdAt, string rules)
    {
        var marketer = app.As("marketer");
        var current = await marketer.GetAsync($"/api/campaigns/{id}");
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/campaigns/{id}") { Content = JsonContent.Create(Body(id, createdAt, rules)) };
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        var r = await marketer.SendAsync(put);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task After_a_new_rules_version_the_fans_next_vote_is_refused_until_they_accept_it()
    {
        await using var app = await TestApp.StartAsync(settings: VotingKit.Settings());
        var now = DateTimeOffset.UtcNow;
        var id = await VotingCampaignAsync(app, now, "r1");
        var fan = app.As("fan", "fan-" + Guid.NewGuid().ToString("N")[..8]);
        var vote = VotingKit.Choices(("colour", "red"), ("wheels", "sport"));

        Assert.Equal(200, (int)(await fan.PutAsJsonAsync($"/api/me/campaigns/{id}/consent", new { rulesVersion = "r1" })).StatusCode);
        Assert.Equal(202, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", vote)).StatusCode);

        await PublishRulesAsync(app, id, now, "r2");
        var refused = await (await fan.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", vote)).Problem(403, "consent_required");
        Assert.Equal("r2", refused.GetProperty("errors").GetProperty("rulesVersion")[0].GetString());

        Assert.Equal(200, (int)(await fan.PutAsJsonAsync($"/api/me/campaigns/{id}/consent", new { rulesVersion = "r2" })).StatusCode);
        Assert.Equal(202, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", VotingKit.Choices(("colour", "blue"), ("wheels", "sport")))).StatusCode);

        // A fan who never accepted is asked too; naming the current rules with the vote accepts them (no stored consent needed).
        var other = app.As("fan");
        await (await other.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", vote)).Problem(403, "consent_required");
        await (await other.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes", new { choices = new[] { new { category = "colour", option = "red" } }, rulesVersion = "r1" }))
            .Problem(403, "consent_required");
        Assert.Equal(202, (int)(await other.PostAsJsonAsync($"/api/campaigns/{id}/rounds/r1/votes",
            new { choices = new[] { new { category = "colour", option = "red" } }, rulesVersion = "r2" })).StatusCode);

        // The refusals are kept as evidence under their own reason, and the counted vote says which rules it was cast under.
        var tally = await VotingKit.WaitAsync(app, id, t => VotingKit.Refused(t, "consent_required") == 3 && t.GetProperty("votesCounted").GetInt64() == 2);
        Assert.Equal(1, VotingKit.Count(tally, "colour", "blue"));
        var mine = await (await fan.GetAsync($"/api/campaigns/{id}/rounds/r1/votes/me")).Json();
        Assert.Equal("r2", mine.GetProperty("rulesVersion").GetString());
    }

    private static object LabelTemplate => new
    {
        width = 600, height = 300, backgroundColor = "#ffcc00", textColor = "#3a1f04",
        box = new { x = 50, y = 100, width = 500, height = 120 }, maxFontPoints = 40, printScale = 2,
    };

    private static async Task<Dictionary<string, string?>> GalleryTextsAsync(TestApp app, string campaignId)
    {
        var page = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery")).Json();
        return page.GetProperty("items").EnumerateArray().ToDictionary(i => i.GetProperty("entryId").GetString()!,
            i => i.GetProperty("text").ValueKind == JsonValueKind.Null ? null : i.GetProperty("text").GetString());
    }

    [Fact]
    public async Task The_gallery_shows_a_label_text_only_with_its_owners_public_display_consent_and_stops_when_it_is_withdrawn()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var marketer = app.As("marketer");
        var campaignId = await Submit.CampaignAsync(marketer, DateTimeOffset.UtcNow);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", LabelTemplate)).StatusCode);
        var shy = app.As("fan", "fan-shy-" + Guid.NewGuid().ToString("N")[..6]);
        var proud = app.As("fan", "fan-proud-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal(200, (int)(await proud.PutAsJsonAsync($"/api/me/campaigns/{campaignId}/consent", new { rulesVersion = "r1", publicDisplay = true })).StatusCode);

        var (shyEntry, _, _) = await Submit.CreateAsync(shy, campaignId, new { kind = "label", locale = "en", text = "Pour Marie", consent = Submit.Consent });
        var (proudEntry, _, _) = await Submit.CreateAsync(proud, campaignId, new { kind = "label", locale = "en", text = "Pour Luca", consent = Submit.Consent });
        foreach (var e in new[] { shyEntry, proudEntry })
            await app.Service<IEntryModeration>().ApplyAsync(campaignId, e, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);

        var texts = await GalleryTextsAsync(app, campaignId);
        Assert.Null(texts[shyEntry]);
        Assert.Equal("Pour Luca", texts[proudEntry]);

        // Withdrawn: hidden from the next page on; given later: shown.
        Assert.Equal(200, (int)(await proud.PutAsJsonAsync($"/api/me/campaigns/{campaignId}/consent", new { rulesVersion = "r1", publicDisplay = false })).StatusCode);
        Assert.Equal(200, (int)(await shy.PutAsJsonAsync($"/api/me/campaigns/{campaignId}/consent", new { rulesVersion = "r1", showNamePublicly = true })).StatusCode);
        texts = await GalleryTextsAsync(app, campaignId);
        Assert.Null(texts[proudEntry]);
        Assert.Equal("Pour Marie", texts[shyEntry]);
        var raw = await (await app.Client.GetAsync($"/api/public/campaigns/{campaignId}/gallery")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("Luca", raw);

        // The owner still sees their own text, and the entry records the choice with its instant.
        var own = await (await proud.GetAsync($"/api/me/submissions/{campaignId}/{proudEntry}")).Json();
        Assert.Equal("Pour Luca", own.GetProperty("text").GetString());
        Assert.False(own.GetProperty("consent").GetProperty("publicDisplay").GetBoolean());
    }

    [Fact]
    public async Task An_upload_completed_after_a_new_rules_version_waits_for_the_fan_to_accept_it()
    {
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue());
        var marketer = app.As("marketer");
        var now = DateTimeOffset.UtcNow;
        var campaignId = await Submit.CampaignAsync(marketer, now);
        var fan = app.As("fan", "fan-up-" + Guid.NewGuid().ToString("N")[..6]);
        var jpeg = TestImages.TaggedJpeg();
        var (entryId, url, _) = await Submit.CreateAsync(fan, campaignId, Submit.Photo(jpeg.Length));
        Assert.Equal(201, (int)(await Submit.PutBlobAsync(url!, jpeg)).StatusCode);

        var current = await marketer.GetAsync($"/api/campaigns/{campaignId}");
        var doc = (await current.Json()).Clone();
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/campaigns/{campaignId}")
        {
            Content = JsonContent.Create(new
            {
                name = doc.GetProperty("name").GetString(), brand = "Spread", timeZone = "Europe/Rome", locales = new[] { "en", "fr", "it" },
                features = new[] { "submissions" },
                windows = new
                {
                    publish = new { start = doc.GetProperty("windows").GetProperty("publish").GetProperty("start").GetDateTimeOffset(), end = doc.GetProperty("windows").GetProperty("publish").GetProperty("end").GetDateTimeOffset() },
                    entry = new { start = doc.GetProperty("windows").GetProperty("entry").GetProperty("start").GetDateTimeOffset(), end = doc.GetProperty("windows").GetProperty("entry").GetProperty("end").GetDateTimeOffset() },
                },
                rules = new { version = "r2", text = new Dictionary<string, string> { ["en"] = "Be nicer." } },
            }),
        };
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        Assert.Equal(200, (int)(await marketer.SendAsync(put)).StatusCode);

        var refused = await (await Submit.CompleteAsync(fan, campaignId, entryId)).Problem(403, "consent_required");
        Assert.Equal("r2", refused.GetProperty("errors").GetProperty("rulesVersion")[0].GetString());
        Assert.Equal(200, (int)(await fan.PutAsJsonAsync($"/api/me/campaigns/{campaignId}/consent", new { rulesVersion = "r2" })).StatusCode);
        Assert.Equal(202, (int)(await Submit.CompleteAsync(fan, campaignId, entryId)).StatusCode);
    }

    private static object EpisodesBody(string id, string rules) => new
    {
        id, name = "La série", brand = "Watchmaker", timeZone = "Europe/Zurich", locales = new[] { "fr", "en" }, features = new[] { "episodes" },
        windows = new { publish = EpisodesKit.Window(new(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), new(2027, 12, 31, 0, 0, 0, TimeSpan.Zero)) },
        rules = new { version = rules, text = new Dictionary<string, string> { ["fr"] = "Règlement " + rules } },
    };

    [Fact]
    public async Task A_reaction_needs_the_current_rules_accepted_and_a_new_version_asks_again()
    {
        await using var kit = await EpisodesKit.StartAsync(new DateTimeOffset(2027, 6, 1, 8, 0, 0, TimeSpan.Zero));
        var marketer = kit.As("marketer");
        var c = "ep-" + Guid.NewGuid().ToString("N")[..12];
        Assert.Equal(201, (int)(await marketer.PostAsJsonAsync("/api/campaigns", EpisodesBody(c, "r1"))).StatusCode);
        Assert.Equal(200, (int)(await marketer.PostAsync($"/api/campaigns/{c}/publish", null)).StatusCode);
        var s = await EpisodesKit.SeriesAsync(marketer, c, new { name = "One", times = new[] { "2027-06-01T19:00" } });
        var e = (await EpisodesKit.EpisodeAsync(marketer, c, s, "Un")).GetProperty("id").GetString()!;
        await kit.Tick(new DateTimeOffset(2027, 6, 1, 17, 1, 0, TimeSpan.Zero));
        var fan = kit.As("fan", "fan-react-" + Guid.NewGuid().ToString("N")[..6]);
        var react = $"/api/public/campaigns/{c}/episodes/{e}/reactions";

        await (await fan.PostAsync(react, null)).Problem(403, "consent_required");
        Assert.Equal(200, (int)(await fan.PutAsJsonAsync($"/api/me/campaigns/{c}/consent", new { rulesVersion = "r1" })).StatusCode);
        Assert.True((await (await fan.PostAsync(react, null)).Json()).GetProperty("counted").GetBoolean());

        var current = await marketer.GetAsync($"/api/campaigns/{c}");
        using var put = new HttpRequestMessage(HttpMethod.Put, $"/api/campaigns/{c}") { Content = JsonContent.Create(EpisodesBody(c, "r2")) };
        put.Headers.TryAddWithoutValidation("If-Match", current.Headers.ETag!.ToString());
        Assert.Equal(200, (int)(await marketer.SendAsync(put)).StatusCode);
        var refused = await (await fan.PostAsync(react, null)).Problem(403, "consent_required");
        Assert.Equal("r2", refused.GetProperty("errors").GetProperty("rulesVersion")[0].GetString());
    }

    [Fact]
    public async Task The_demo_campaign_takes_a_vote_once_the_fan_gives_the_consent_the_readme_shows()
    {
        // What Demo__Seed=true registers (read before the test's settings are added): the demo campaign, then its ballot.
        await using var app = await TestApp.StartAsync(b =>
        {
            b.Services.AddSingleton<IStartupTask, global::Campaigns.Demo.DemoSeed>();
            b.Services.AddSingleton<IStartupTask, global::Campaigns.Voting.VotingDemoSeed>();
        }, VotingKit.Settings());
        var id = global::Campaigns.Demo.DemoSeed.CampaignId;
        var fan = app.As("fan", "fan-demo-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal(200, (int)(await fan.PutAsJsonAsync("/api/me/profile", new { displayName = "Fan 42", country = "DE", birthDate = "1990-05-01" })).StatusCode);
        var vote = new { choices = new[] { new { category = "exterior-colour", option = "guards-red" }, new { category = "wheels", option = "classic-fuchs" } } };

        var refused = await (await fan.PostAsJsonAsync($"/api/campaigns/{id}/rounds/final/votes", vote)).Problem(403, "consent_required");
        Assert.Equal("2026-11", refused.GetProperty("errors").GetProperty("rulesVersion")[0].GetString());
        // The prize-draw terms of the demo (its former "consent" text) are part of the acceptance.
        await (await fan.PutAsJsonAsync($"/api/me/campaigns/{id}/consent", new { rulesVersion = "2026-11" })).Problem(400, "prize_draw_version_mismatch");
        var consent = await fan.PutAsJsonAsync($"/api/me/campaigns/{id}/consent",
            new { rulesVersion = "2026-11", prizeDrawVersion = "2026-11", marketingOptIn = false, publicDisplay = false });
        Assert.Equal(200, (int)consent.StatusCode);
        Assert.Equal(202, (int)(await fan.PostAsJsonAsync($"/api/campaigns/{id}/rounds/final/votes", vote)).StatusCode);
    }

    private sealed class Revealed(RevealedTally tally) : IRevealedResults
    {
        public Task<RevealedTally?> GetRevealedAsync(string campaignId, string roundId, CancellationToken ct)
            => Task.FromResult<RevealedTally?>(tally.CampaignId == campaignId && tally.RoundId == roundId ? tally : null);
    }

    [Fact]
    public async Task A_withdrawal_hides_the_label_text_from_the_cached_by_votes_gallery_at_once_on_the_instance_that_took_it()
    {
        // A clock that stands still: the ranking stays cached for the whole test unless the withdrawal forgets it.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var campaignHolder = new string[1];
        var entryHolder = new string[1];
        await using var app = await TestApp.StartAsync(Submit.WithReviewQueue(b =>
        {
            b.Services.AddSingleton<IRevealedResults>(_ => new Revealed(new RevealedTally(campaignHolder[0], "final", DateTimeOffset.UtcNow,
                [new(RevealedTally.EntriesCategory, entryHolder[0], 7)])));
            b.Services.AddSingleton<TimeProvider>(clock);
        }));
        var marketer = app.As("marketer");
        var campaignId = campaignHolder[0] = await Submit.CampaignAsync(marketer, DateTimeOffset.UtcNow);
        Assert.Equal(200, (int)(await marketer.PutAsJsonAsync($"/api/campaigns/{campaignId}/label-template", LabelTemplate)).StatusCode);
        var fan = app.As("fan", "fan-ranked-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal(200, (int)(await fan.PutAsJsonAsync($"/api/me/campaigns/{campaignId}/consent", new { rulesVersion = "r1", publicDisplay = true })).StatusCode);
        var (entryId, _, _) = await Submit.CreateAsync(fan, campaignId, new { kind = "label", locale = "en", text = "Pour Giulia", consent = Submit.Consent });
        entryHolder[0] = entryId;
        await app.Service<IEntryModeration>().ApplyAsync(campaignId, entryId, new EntryDecision("approved", null, null, "mod-1", DateTimeOffset.UtcNow), CancellationToken.None);

        var url = $"/api/public/campaigns/{campaignId}/gallery?order=votes&round=final";
        var ranked = await (await app.Client.GetAsync(url)).Json();
        Assert.Equal("Pour Giulia", ranked.GetProperty("items")[0].GetProperty("text").GetString());

        Assert.Equal(200, (int)(await fan.PutAsJsonAsync($"/api/me/campaigns/{campaignId}/consent", new { rulesVersion = "r1", publicDisplay = false })).StatusCode);
        var after = await (await app.Client.GetAsync(url)).Json();
        Assert.Equal(entryId, after.GetProperty("items")[0].GetProperty("entryId").GetString());
        Assert.Equal(JsonValueKind.Null, after.GetProperty("items")[0].GetProperty("text").ValueKind);
        Assert.Equal(7, after.GetProperty("votes").GetProperty(entryId).GetInt64());
    }
}
