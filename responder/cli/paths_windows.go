package cli

const defaultStateDir = `C:\ProgramData\Magpie\responder`
