namespace AgentPerimeter.Cli;

/// <summary><c>perimeter ca export</c>: the gateway's egress inspection CA (PEM, certificate only), for a sandbox to trust.</summary>
internal static class CaCommand
{
    public static Task<int> RunAsync(Args args) => AdminClient.RunAsync(args, async http =>
    {
        if (args.Positionals is not ["export"])
            throw new ArgsException("usage: perimeter ca export [--admin URL] > gateway-ca.pem");
        var response = await http.GetAsync("admin/egress/ca");
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            return Cli.Fail($"the gateway refused ({(int)response.StatusCode}): {body}");
        Console.Out.Write(body);
        return 0;
    });
}
