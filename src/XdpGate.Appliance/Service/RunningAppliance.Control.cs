using System.Text.Json;
using XdpGate.Appliance.Builtins;
using XdpGate.Appliance.Control;
using XdpGate.Appliance.Dataplane;
using XdpGate.Bpf.Maps;

namespace XdpGate.Appliance.Service;

/// <summary>
/// The control socket's view of the running appliance. Requests read the serving program's maps; a reload retires
/// the old program and frees it only when no request is in progress (<see cref="Serve"/> counts them), so a
/// request that read the old program's maps finishes with them intact.
/// </summary>
public sealed partial class RunningAppliance : IApplianceControl
{
    private readonly object retireGate = new();
    private readonly List<BuiltProgram> retired = [];
    private int requestsInProgress;

    public ControlStatus Status()
    {
        var current = serving;
        return new ControlStatus(current.Program.Config.Origin, current.Program.Program.Name, uptime.Elapsed.TotalSeconds,
            [.. current.Program.Config.Ports.Select(p => p.Name)], pool.Workers.Count);
    }

    /// <summary>
    /// config.version, reloads, reload_failures; per port (by config name) and per worker: rx and tx packets and
    /// bytes, each verdict, errors and kernel ring drops; then the built-in's own (the firewall's fw_stats).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, ulong>> Stats()
    {
        var current = serving;
        var snapshot = pool.Snapshot();
        var result = new List<KeyValuePair<string, ulong>>
        {
            new("config.version", (ulong)current.Version),
            new("reloads", (ulong)Interlocked.Read(ref reloads)),
            new("reload_failures", (ulong)Interlocked.Read(ref reloadFailures)),
        };
        for (var p = 0; p < snapshot.Ports.Count; p++)
            Add(result, $"port.{ports.NameOf(p)}", snapshot.Ports[p].Total);
        for (var w = 0; w < snapshot.WorkerCount; w++)
            Add(result, $"worker.{w}", snapshot.Worker(w));
        result.AddRange(current.Builtin?.Stats() ?? []);
        return result;
    }

    private static void Add(List<KeyValuePair<string, ulong>> result, string prefix, CounterSnapshot counters)
    {
        result.Add(new($"{prefix}.rx_packets", (ulong)counters.RxPackets));
        result.Add(new($"{prefix}.rx_bytes", (ulong)counters.RxBytes));
        result.Add(new($"{prefix}.tx_packets", (ulong)counters.TxPackets));
        result.Add(new($"{prefix}.tx_bytes", (ulong)counters.TxBytes));
        for (var v = 0; v < Verdict.Count; v++)
            result.Add(new($"{prefix}.{Verdict.ShortNames[v]}", (ulong)counters.Verdicts[v]));
        result.Add(new($"{prefix}.errors", (ulong)counters.ErrorTotal));
        result.Add(new($"{prefix}.ring_drops", counters.Ring.RxDropped));
    }

    public IReadOnlyDictionary<string, BpfMap> Maps => serving.Program.Maps;

    public IReadOnlyList<string> BuiltinVerbs => serving.Builtin is { } builtin ? BuiltinRegistry.Find(builtin.Builtin)!.Verbs : [];

    public void Answer(string verb, IReadOnlyList<string> args, Utf8JsonWriter json)
    {
        var builtin = serving.Builtin ?? throw new ControlRequestException($"'{verb}' is a built-in's verb; the running program {serving.Program.Program.Name} is not a built-in");
        builtin.Answer(verb, args, json);
    }

    public void Serve(Action request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (retireGate)
            requestsInProgress++;
        try
        {
            request();
        }
        finally
        {
            lock (retireGate)
            {
                if (--requestsInProgress == 0)
                    FreeRetired();
            }
        }
    }

    /// <summary>Frees <paramref name="program"/> now, or when the requests in progress (which may hold its maps) end.</summary>
    private void Retire(BuiltProgram program)
    {
        lock (retireGate)
        {
            retired.Add(program);
            if (requestsInProgress == 0)
                FreeRetired();
        }
    }

    private void FreeRetired()
    {
        foreach (var program in retired)
            program.Dispose();
        retired.Clear();
    }
}
