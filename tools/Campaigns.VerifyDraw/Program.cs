using Campaigns.Winners;

// verify-draw RECORD LIST: re-runs a published draw. Exit 0 = it matches; 1 = something differs (named);
// 2 = a file is missing, unreadable or malformed. Never prints a stack trace.
const long MaxBytes = 512L * 1024 * 1024;

if (args.Length != 2 || args.Any(a => a is "-h" or "--help"))
{
    Console.Error.WriteLine("usage: verify-draw RECORD.json LIST.txt");
    Console.Error.WriteLine("  RECORD.json  the published draw record");
    Console.Error.WriteLine("  LIST.txt     the published eligible list (one pseudonymous id per line)");
    return DrawVerifier.Unreadable;
}

try
{
    var record = Read(args[0], "record");
    var list = Read(args[1], "list");
    if (record is null || list is null) return DrawVerifier.Unreadable;
    var outcome = DrawVerifier.Verify(record, list);
    foreach (var fact in outcome.Facts) Console.WriteLine("  " + fact);
    foreach (var problem in outcome.Problems) Console.Error.WriteLine((outcome.ExitCode == DrawVerifier.Unreadable ? "ERROR " : "MISMATCH ") + problem);
    Console.WriteLine(outcome.ExitCode switch
    {
        DrawVerifier.Match => $"OK: the draw reproduces ({DrawAlgorithm.Version}).",
        DrawVerifier.Differs => $"FAILED: {outcome.Problems.Count} difference(s); the published draw does not reproduce.",
        _ => "FAILED: the input could not be read.",
    });
    return outcome.ExitCode;
}
catch (Exception e)
{
    // Last resort: a message, not a stack trace.
    Console.Error.WriteLine($"ERROR unexpected failure: {e.Message}");
    return DrawVerifier.Unreadable;
}

static byte[]? Read(string path, string what)
{
    try
    {
        var info = new FileInfo(path);
        if (!info.Exists) { Console.Error.WriteLine($"ERROR {what}: no such file '{path}'"); return null; }
        if (info.Length > MaxBytes) { Console.Error.WriteLine($"ERROR {what}: '{path}' is larger than {MaxBytes / (1024 * 1024)} MiB"); return null; }
        return File.ReadAllBytes(path);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"ERROR {what}: cannot read '{path}': {e.Message}");
        return null;
    }
}
