namespace XdpGate.Testing.Kernel;

/// <summary>The running kernel lacks what a test needs (a helper for the program type, a map type): not a difference.</summary>
public sealed class KernelFeatureMissingException(string reason) : Exception(reason);
