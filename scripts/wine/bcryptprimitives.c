/*
 * A stand-in bcryptprimitives.dll for running Go 1.24+ Windows programs under wine 8,
 * which lacks the DLL. Go's runtime asks it for ProcessPrng at start and stops without
 * it; this one fills the buffer from advapi32's RtlGenRandom (SystemFunction036), which
 * wine provides. Test harness only (scripts/windows-smoke.sh): never shipped in dist/.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* ProcessPrng has the signature of Windows 10's: it never fails, so Go does not check. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	while (size > 0) {
		ULONG chunk = size > 0x10000000 ? 0x10000000 : (ULONG)size;
		if (!SystemFunction036(data, chunk))
			return FALSE;
		data += chunk;
		size -= chunk;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
	(void)instance; (void)reason; (void)reserved;
	return TRUE;
}
