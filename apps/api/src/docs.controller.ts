import { Controller, Get } from '@nestjs/common';
import { openApiDocument } from './admin.routes';

/** `GET /docs`: the OpenAPI document of every HTTP route. */
@Controller('docs')
export class DocsController {
  private readonly document = openApiDocument();

  @Get()
  docs() {
    return this.document;
  }
}
