using Campaigns;
using Campaigns.Platform;
using Microsoft.Extensions.Options;

try
{
    return await Cli.RunAsync(args);
}
catch (Exception e) when (e is OptionsValidationException or StartupException)
{
    var message = e is OptionsValidationException o ? string.Join(" ", o.Failures) : e.Message;
    Console.Error.WriteLine($"Configuration error: {message}");
    return 2;
}

public partial class Program;
